import SwitchboardValidation
import SwitchboardWire
import Testing

/// What a person reads when an answer breaks its schema: where, and what to change.
@Suite struct SchemaMessageTests {
    static let forecast = try! JSONSchema(
        parsing: #"""
            {
              "type": "object",
              "required": ["city", "items"],
              "additionalProperties": false,
              "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"enum": ["C", "F"]},
                "items": {
                  "type": "array",
                  "maxItems": 3,
                  "items": {
                    "type": "object",
                    "required": ["day", "temp_c"],
                    "properties": {
                      "day": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                      "temp_c": {"type": "number", "minimum": -90, "maximum": 60}
                    }
                  }
                }
              }
            }
            """#
    )

    func violations(_ text: String) throws -> [String] {
        Self.forecast.validate(try JSONValue.parse(Array(text.utf8))).map(\.description)
    }

    @Test func eachViolationNamesItsPlaceAndWhatWasExpected() throws {
        let found = try violations(
            #"{"city": "Oslo", "unit": "K", "items": [{"day": "2026-11-29", "temp_c": 3}, {"day": "tomorrow", "temp_c": 80}, {"day": "2026-12-01", "temp_c": "cold"}], "note": 1}"#
        )
        #expect(
            found == [
                #"/unit: expected one of "C", "F", got "K""#,
                #"/items/1/day: expected to match /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, got "tomorrow""#,
                "/items/1/temp_c: expected at most 60, got 80",
                "/items/2/temp_c: expected number, got string",
                "/note: property 'note' is not allowed",
            ]
        )
    }

    @Test func missingAndWrongTopLevelValuesAreReportedAtTheRoot() throws {
        #expect(
            try violations(#"{"city": "X"}"#) == [
                "/: missing required property 'items'", "/city: expected at least 2 characters, got 1",
            ]
        )
        #expect(try violations("[]") == ["/: expected object, got array"])
        let many = try violations(
            #"{"city": "Bergen", "items": [{"day":"2026-01-01","temp_c":1},{"day":"2026-01-02","temp_c":1},{"day":"2026-01-03","temp_c":1},{"day":"2026-01-04","temp_c":1}]}"#
        )
        #expect(many == ["/items: expected at most 3 items, got 4"])
    }

    @Test func aValidAnswerHasNoViolationsAndTheQuickCheckAgrees() throws {
        let answer = try JSONValue.parse(
            Array(#"{"city": "Oslo", "items": [{"day": "2026-11-29", "temp_c": -3.5}]}"#.utf8)
        )
        #expect(Self.forecast.validate(answer).isEmpty)
        #expect(Self.forecast.isValid(answer))
        #expect(!Self.forecast.isValid(.object(["city": "Oslo"])))
    }

    @Test func unusableSchemasAreRefusedWithTheirPlace() {
        #expect(throws: SchemaError.self) { try JSONSchema(parsing: ##"{"$ref": "#/$defs/missing"}"##) }
        do {
            _ = try JSONSchema(parsing: #"{"properties": {"a": {"pattern": "([a-z"}}}"#)
            Issue.record("an invalid pattern compiled")
        } catch {
            #expect(error.location == "/properties/a/pattern")
        }
        do {
            _ = try JSONSchema(parsing: #"{"type": "strnig"}"#)
            Issue.record("an unknown type compiled")
        } catch {
            #expect(error.description == #"/type: "strnig" is not a JSON type"#)
        }
    }

    @Test func theMetaSchemaChecksSchemas() throws {
        let meta = try JSONSchema(parsing: #"{"$ref": "https://json-schema.org/draft/2020-12/schema"}"#)
        #expect(
            meta.isValid(try JSONValue.parse(Array(#"{"type": "object", "properties": {"a": {"minLength": 1}}}"#.utf8)))
        )
        let broken = try JSONValue.parse(Array(#"{"properties": {"a": {"minLength": -1}}}"#.utf8))
        #expect(meta.validate(broken).map(\.instancePath) == ["/properties/a/minLength"])
    }

    @Test func deepRecursionEndsWithAViolationNotACrash() throws {
        let schema = try JSONSchema(
            parsing: ##"{"$defs": {"loop": {"$ref": "#/$defs/loop"}}, "$ref": "#/$defs/loop"}"##
        )
        let found = schema.validate(.integer(1))
        #expect(found.count == 1 && found[0].message.contains("recurses deeper"))
    }
}
