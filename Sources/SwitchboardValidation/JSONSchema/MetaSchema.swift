import SwitchboardWire

/// A meta-schema for draft 2020-12 schemas, known under the draft's URI so that a schema may
/// reference it (`"$ref": "https://json-schema.org/draft/2020-12/schema"`) and so that a schema can
/// be checked before use. Written for Switchboard as one document (the draft publishes one per
/// vocabulary); it holds every keyword of the draft to the type and range the draft gives it.
enum MetaSchema {
    static let uri = "https://json-schema.org/draft/2020-12/schema"

    static let document: JSONValue = {
        // A literal that parses: a failure here is a programming error caught by every test.
        try! JSONValue.parse(Array(text.utf8))
    }()

    private static let text = #"""
        {
          "$id": "https://json-schema.org/draft/2020-12/schema",
          "$dynamicAnchor": "meta",
          "title": "JSON Schema draft 2020-12 (Switchboard's single-document meta-schema)",
          "type": ["object", "boolean"],
          "properties": {
            "$id": {"type": "string"},
            "$schema": {"type": "string"},
            "$ref": {"type": "string"},
            "$anchor": {"$ref": "#/$defs/anchor"},
            "$dynamicRef": {"type": "string"},
            "$dynamicAnchor": {"$ref": "#/$defs/anchor"},
            "$vocabulary": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "$comment": {"type": "string"},
            "$defs": {"$ref": "#/$defs/schemaMap"},
            "prefixItems": {"$ref": "#/$defs/schemaArray"},
            "items": {"$dynamicRef": "#meta"},
            "contains": {"$dynamicRef": "#meta"},
            "additionalProperties": {"$dynamicRef": "#meta"},
            "properties": {"$ref": "#/$defs/schemaMap"},
            "patternProperties": {"$ref": "#/$defs/schemaMap"},
            "dependentSchemas": {"$ref": "#/$defs/schemaMap"},
            "propertyNames": {"$dynamicRef": "#meta"},
            "if": {"$dynamicRef": "#meta"},
            "then": {"$dynamicRef": "#meta"},
            "else": {"$dynamicRef": "#meta"},
            "allOf": {"$ref": "#/$defs/schemaArray"},
            "anyOf": {"$ref": "#/$defs/schemaArray"},
            "oneOf": {"$ref": "#/$defs/schemaArray"},
            "not": {"$dynamicRef": "#meta"},
            "unevaluatedItems": {"$dynamicRef": "#meta"},
            "unevaluatedProperties": {"$dynamicRef": "#meta"},
            "type": {
              "anyOf": [
                {"$ref": "#/$defs/simpleTypes"},
                {"type": "array", "items": {"$ref": "#/$defs/simpleTypes"}, "minItems": 1, "uniqueItems": true}
              ]
            },
            "const": true,
            "enum": {"type": "array"},
            "multipleOf": {"type": "number", "exclusiveMinimum": 0},
            "maximum": {"type": "number"},
            "exclusiveMaximum": {"type": "number"},
            "minimum": {"type": "number"},
            "exclusiveMinimum": {"type": "number"},
            "maxLength": {"$ref": "#/$defs/count"},
            "minLength": {"$ref": "#/$defs/count"},
            "pattern": {"type": "string"},
            "maxItems": {"$ref": "#/$defs/count"},
            "minItems": {"$ref": "#/$defs/count"},
            "uniqueItems": {"type": "boolean"},
            "maxContains": {"$ref": "#/$defs/count"},
            "minContains": {"$ref": "#/$defs/count"},
            "maxProperties": {"$ref": "#/$defs/count"},
            "minProperties": {"$ref": "#/$defs/count"},
            "required": {"$ref": "#/$defs/names"},
            "dependentRequired": {"type": "object", "additionalProperties": {"$ref": "#/$defs/names"}},
            "format": {"type": "string"},
            "contentEncoding": {"type": "string"},
            "contentMediaType": {"type": "string"},
            "contentSchema": {"$dynamicRef": "#meta"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "deprecated": {"type": "boolean"},
            "readOnly": {"type": "boolean"},
            "writeOnly": {"type": "boolean"},
            "examples": {"type": "array"}
          },
          "$defs": {
            "anchor": {"type": "string", "pattern": "^[A-Za-z_][-A-Za-z0-9._]*$"},
            "count": {"type": "integer", "minimum": 0},
            "names": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "schemaArray": {"type": "array", "minItems": 1, "items": {"$dynamicRef": "#meta"}},
            "schemaMap": {"type": "object", "additionalProperties": {"$dynamicRef": "#meta"}},
            "simpleTypes": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]}
          }
        }
        """#
}
