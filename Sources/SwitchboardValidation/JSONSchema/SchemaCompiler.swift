import Foundation
import SwitchboardWire

/// Turns schema documents into a ``SchemaProgram``: first every schema resource and anchor of a
/// document is indexed (so a reference may point forward or into another resource), then nodes
/// are compiled from the root, references resolved to node indices as they are met.
struct SchemaCompiler {
    struct Location: Hashable {
        var document: Int
        /// A JSON Pointer from the document's root, `~0`/`~1` escaped, never percent-encoded.
        var pointer: String
    }

    struct ResourceInfo {
        var uri: String
        var root: Location
        var anchors: [String: Location] = [:]
        var dynamicAnchors: [String: Location] = [:]
    }

    private var documents: [JSONValue] = []
    private var documentURIs: [String] = []
    private var available: [String: JSONValue]
    private var resources: [ResourceInfo] = []
    private var resourceByURI: [String: Int] = [:]
    private var resourceAt: [Location: Int] = [:]
    private var nodes: [SchemaNode?] = []
    private var nodeAt: [Location: Int] = [:]

    private init(available: [String: JSONValue]) {
        self.available = available
    }

    static func compile(_ document: JSONValue, baseURI: String, resources: [String: JSONValue]) throws(SchemaError)
        -> SchemaProgram
    {
        var compiler = SchemaCompiler(available: resources)
        let resource = try compiler.load(document, uri: baseURI)
        let root = try compiler.compile(compiler.resources[resource].root, resource: resource)
        // Every dynamic anchor gets a node, so `$dynamicRef` can reach it through the dynamic scope.
        var compiled = 0
        while compiled < compiler.resources.count {
            let info = compiler.resources[compiled]
            for location in info.dynamicAnchors.values { _ = try compiler.compile(location, resource: compiled) }
            compiled += 1
        }
        let nodes = compiler.nodes.map { $0! }
        let resources = compiler.resources.enumerated().map { index, info in
            SchemaResource(
                uri: info.uri,
                dynamicAnchors: info.dynamicAnchors.mapValues { compiler.nodeAt[$0]! }
            )
        }
        return SchemaProgram(nodes: nodes, resources: resources, root: root)
    }

    // MARK: - Indexing

    /// Adds a document and indexes its resources; returns its root resource.
    private mutating func load(_ document: JSONValue, uri: String) throws(SchemaError) -> Int {
        let index = documents.count
        documents.append(document)
        documentURIs.append(uri)
        var base = SchemaURI.withoutFragment(uri)
        if let id = document["$id"]?.stringValue {
            base = SchemaURI.withoutFragment(SchemaURI.resolve(id, against: base))
        }
        let resource = addResource(uri: base, root: Location(document: index, pointer: ""))
        try self.index(document, at: Location(document: index, pointer: ""), resource: resource, isResourceRoot: true)
        return resource
    }

    private mutating func addResource(uri: String, root: Location) -> Int {
        let index = resources.count
        resources.append(ResourceInfo(uri: uri, root: root))
        resourceByURI[uri] = index
        return index
    }

    /// Records the resources and anchors in a schema and its subschemas (only under keywords that
    /// hold schemas: an `$id` inside an unknown keyword is not an identifier).
    private mutating func index(_ value: JSONValue, at location: Location, resource: Int, isResourceRoot: Bool)
        throws(SchemaError)
    {
        guard case .object(let object) = value else {
            resourceAt[location] = resource
            return
        }
        var resource = resource
        if !isResourceRoot, let id = object["$id"]?.stringValue {
            let uri = SchemaURI.withoutFragment(SchemaURI.resolve(id, against: resources[resource].uri))
            resource = addResource(uri: uri, root: location)
        }
        resourceAt[location] = resource
        if let anchor = object["$anchor"]?.stringValue { resources[resource].anchors[anchor] = location }
        if let anchor = object["$dynamicAnchor"]?.stringValue {
            resources[resource].anchors[anchor] = location
            resources[resource].dynamicAnchors[anchor] = location
        }
        for (key, member) in object {
            let here = location.pointer + "/" + SchemaURI.escape(key)
            switch key {
            case "additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else",
                "unevaluatedItems", "unevaluatedProperties":
                try index(
                    member,
                    at: Location(document: location.document, pointer: here),
                    resource: resource,
                    isResourceRoot: false
                )
            case "properties", "patternProperties", "$defs", "dependentSchemas":
                guard case .object(let children) = member else { continue }
                for (name, child) in children {
                    let pointer = here + "/" + SchemaURI.escape(name)
                    try index(
                        child,
                        at: Location(document: location.document, pointer: pointer),
                        resource: resource,
                        isResourceRoot: false
                    )
                }
            case "allOf", "anyOf", "oneOf", "prefixItems":
                guard case .array(let children) = member else { continue }
                for (position, child) in children.enumerated() {
                    let pointer = here + "/\(position)"
                    try index(
                        child,
                        at: Location(document: location.document, pointer: pointer),
                        resource: resource,
                        isResourceRoot: false
                    )
                }
            default:
                continue
            }
        }
    }

    // MARK: - References

    /// The location a reference names, from the resource it appears in.
    /// - Returns: the location, and the anchor name when the fragment is a plain name.
    private mutating func resolve(_ reference: String, from resource: Int, at location: Location) throws(SchemaError)
        -> (location: Location, resource: Int, anchor: String?)
    {
        let absolute = SchemaURI.resolve(reference, against: resources[resource].uri)
        let (uri, fragment) = SchemaURI.split(absolute)
        var target: Int
        if let known = resourceByURI[uri] {
            target = known
        } else if let document = available[uri] ?? available[uri + "#"] {
            target = try load(document, uri: uri)
        } else {
            throw SchemaError(
                location: describe(location),
                message:
                    "the reference '\(reference)' names \(uri), which is neither in this schema nor a known document"
            )
        }
        let info = resources[target]
        if fragment.isEmpty { return (info.root, target, nil) }
        if fragment.hasPrefix("/") {
            return (Location(document: info.root.document, pointer: info.root.pointer + fragment), target, nil)
        }
        guard let anchor = info.anchors[fragment] else {
            throw SchemaError(
                location: describe(location),
                message: "the reference '\(reference)' names no anchor '\(fragment)'"
            )
        }
        target = resourceAt[anchor] ?? target
        return (anchor, target, fragment)
    }

    // MARK: - Nodes

    private mutating func compile(_ location: Location, resource hint: Int) throws(SchemaError) -> Int {
        if let index = nodeAt[location] { return index }
        let index = nodes.count
        nodes.append(nil)
        nodeAt[location] = index
        guard let value = SchemaURI.navigate(documents[location.document], pointer: location.pointer) else {
            throw SchemaError(
                location: describe(location),
                message: "a reference points here, but there is nothing here"
            )
        }
        let resource = resourceAt[location] ?? hint
        switch value {
        case .bool(let always):
            nodes[index] = SchemaNode(
                body: .always(always),
                resource: resource,
                location: describe(location),
                needsAnnotations: false
            )
        case .object(let object):
            let keywords = try compileKeywords(object, at: location, resource: resource)
            let needsAnnotations = keywords.contains {
                if case .unevaluatedItems = $0 { return true }
                if case .unevaluatedProperties = $0 { return true }
                return false
            }
            nodes[index] = SchemaNode(
                body: .keywords(keywords),
                resource: resource,
                location: describe(location),
                needsAnnotations: needsAnnotations
            )
        default:
            throw SchemaError(
                location: describe(location),
                message: "a schema must be an object or a boolean, not \(value.typeName)"
            )
        }
        return index
    }

    private func describe(_ location: Location) -> String {
        location.document == 0 ? location.pointer : "\(documentURIs[location.document])#\(location.pointer)"
    }

    private mutating func compileKeywords(_ object: JSONObject, at location: Location, resource: Int)
        throws(SchemaError)
        -> [Keyword]
    {
        var keywords: [Keyword] = []
        var last: [Keyword] = []
        func here(_ key: String) -> Location {
            Location(document: location.document, pointer: location.pointer + "/" + SchemaURI.escape(key))
        }
        func fail(_ key: String, _ message: String) -> SchemaError {
            SchemaError(location: describe(here(key)), message: message)
        }
        func child(_ key: String, _ suffix: String? = nil) throws(SchemaError) -> Int {
            var pointer = here(key).pointer
            if let suffix { pointer += "/" + suffix }
            return try compile(Location(document: location.document, pointer: pointer), resource: resource)
        }
        func number(_ key: String) throws(SchemaError) -> Double? {
            guard let value = object[key] else { return nil }
            switch value {
            case .integer(let number): return Double(number)
            case .double(let number): return number
            default: throw fail(key, "expected a number, got \(value.typeName)")
            }
        }
        func count(_ key: String) throws(SchemaError) -> Int? {
            guard let value = object[key] else { return nil }
            guard let count = value.intValue, count >= 0 else {
                throw fail(key, "expected a whole number ≥ 0, got \(value.serialized())")
            }
            return count
        }
        func schemaList(_ key: String) throws(SchemaError) -> [Int]? {
            guard let value = object[key] else { return nil }
            guard case .array(let items) = value, !items.isEmpty else {
                throw fail(key, "expected a non-empty array of schemas")
            }
            var list: [Int] = []
            for position in items.indices { list.append(try child(key, "\(position)")) }
            return list
        }
        func pattern(_ text: String, _ key: String) throws(SchemaError) -> SchemaPattern {
            do {
                return try SchemaPattern(text)
            } catch {
                throw fail(key, "'\(text)' is not a regular expression")
            }
        }

        if let reference = object["$ref"] {
            guard let text = reference.stringValue else { throw fail("$ref", "expected a string") }
            let target = try resolve(text, from: resource, at: here("$ref"))
            keywords.append(.ref(try compile(target.location, resource: target.resource)))
        }
        if let reference = object["$dynamicRef"] {
            guard let text = reference.stringValue else { throw fail("$dynamicRef", "expected a string") }
            let target = try resolve(text, from: resource, at: here("$dynamicRef"))
            let node = try compile(target.location, resource: target.resource)
            let dynamic = target.anchor.flatMap { resources[target.resource].dynamicAnchors[$0] != nil ? $0 : nil }
            keywords.append(.dynamicRef(node, anchor: dynamic))
        }
        if let type = object["type"] {
            var set = TypeSet()
            let names = type.arrayValue ?? [type]
            for name in names {
                guard let text = name.stringValue, let bit = TypeSet.names.first(where: { $0.0 == text })?.1 else {
                    throw fail("type", "\(name.serialized()) is not a JSON type")
                }
                set.insert(bit)
            }
            keywords.append(.type(set))
        }
        if let values = object["enum"] {
            guard case .array(let list) = values else { throw fail("enum", "expected an array") }
            keywords.append(.enumeration(list))
        }
        if let value = object["const"] { keywords.append(.constant(value)) }
        if let divisor = try number("multipleOf") {
            guard divisor > 0 else { throw fail("multipleOf", "expected a number > 0") }
            keywords.append(.multipleOf(divisor))
        }
        if let bound = try number("maximum") { keywords.append(.maximum(bound)) }
        if let bound = try number("exclusiveMaximum") { keywords.append(.exclusiveMaximum(bound)) }
        if let bound = try number("minimum") { keywords.append(.minimum(bound)) }
        if let bound = try number("exclusiveMinimum") { keywords.append(.exclusiveMinimum(bound)) }
        if let bound = try count("maxLength") { keywords.append(.maxLength(bound)) }
        if let bound = try count("minLength") { keywords.append(.minLength(bound)) }
        if let value = object["pattern"] {
            guard let text = value.stringValue else { throw fail("pattern", "expected a string") }
            keywords.append(.pattern(try pattern(text, "pattern")))
        }
        if let bound = try count("maxItems") { keywords.append(.maxItems(bound)) }
        if let bound = try count("minItems") { keywords.append(.minItems(bound)) }
        if object["uniqueItems"]?.boolValue == true { keywords.append(.uniqueItems) }
        if object["contains"] != nil {
            keywords.append(
                .contains(
                    try child("contains"),
                    minimum: try count("minContains") ?? 1,
                    maximum: try count("maxContains")
                )
            )
        }
        if let bound = try count("maxProperties") { keywords.append(.maxProperties(bound)) }
        if let bound = try count("minProperties") { keywords.append(.minProperties(bound)) }
        if let value = object["required"] {
            guard case .array(let names) = value, let strings = Optional(names.compactMap(\.stringValue)),
                strings.count == names.count
            else { throw fail("required", "expected an array of strings") }
            keywords.append(.required(strings))
        }
        if let value = object["dependentRequired"] {
            guard case .object(let map) = value else { throw fail("dependentRequired", "expected an object") }
            var pairs: [(String, [String])] = []
            for (name, list) in map {
                guard case .array(let names) = list else {
                    throw fail("dependentRequired", "expected arrays of strings")
                }
                pairs.append((name, names.compactMap(\.stringValue)))
            }
            keywords.append(.dependentRequired(pairs))
        }
        if let list = try schemaList("allOf") { keywords.append(.allOf(list)) }
        if let list = try schemaList("anyOf") { keywords.append(.anyOf(list)) }
        if let list = try schemaList("oneOf") { keywords.append(.oneOf(list)) }
        if object["not"] != nil { keywords.append(.not(try child("not"))) }
        if object["if"] != nil {
            keywords.append(
                .conditional(
                    if: try child("if"),
                    then: object["then"] != nil ? try child("then") : nil,
                    else: object["else"] != nil ? try child("else") : nil
                )
            )
        }
        if let value = object["dependentSchemas"] {
            guard case .object(let map) = value else { throw fail("dependentSchemas", "expected an object") }
            var pairs: [(String, Int)] = []
            for name in map.keys { pairs.append((name, try child("dependentSchemas", SchemaURI.escape(name)))) }
            keywords.append(.dependentSchemas(pairs))
        }
        var prefixCount = 0
        if let list = try schemaList("prefixItems") {
            prefixCount = list.count
            keywords.append(.prefixItems(list))
        }
        if object["items"] != nil { keywords.append(.items(try child("items"), after: prefixCount)) }
        var named = NameTable([])
        if let value = object["properties"] {
            guard case .object(let map) = value else { throw fail("properties", "expected an object") }
            var children: [(String, Int)] = []
            for name in map.keys { children.append((name, try child("properties", SchemaURI.escape(name)))) }
            named = NameTable(children)
            keywords.append(.properties(named))
        }
        var patterns: [SchemaPattern] = []
        if let value = object["patternProperties"] {
            guard case .object(let map) = value else { throw fail("patternProperties", "expected an object") }
            var children: [(SchemaPattern, Int)] = []
            for name in map.keys {
                let compiled = try pattern(name, "patternProperties")
                patterns.append(compiled)
                children.append((compiled, try child("patternProperties", SchemaURI.escape(name))))
            }
            keywords.append(.patternProperties(children))
        }
        if object["additionalProperties"] != nil {
            keywords.append(.additionalProperties(try child("additionalProperties"), named: named, patterns: patterns))
        }
        if object["propertyNames"] != nil { keywords.append(.propertyNames(try child("propertyNames"))) }
        if object["unevaluatedItems"] != nil { last.append(.unevaluatedItems(try child("unevaluatedItems"))) }
        if object["unevaluatedProperties"] != nil {
            last.append(.unevaluatedProperties(try child("unevaluatedProperties")))
        }
        return keywords + last
    }
}

/// URI references as JSON Schema uses them (RFC 3986 resolution; URNs keep their whole text).
enum SchemaURI {
    /// `reference` resolved against `base`.
    static func resolve(_ reference: String, against base: String) -> String {
        let ref = parts(reference)
        if ref.scheme != nil { return recompose(ref, path: removeDots(ref.path)) }
        let base = parts(base)
        var result = Parts()
        result.scheme = base.scheme
        result.fragment = ref.fragment
        if ref.authority != nil {
            result.authority = ref.authority
            result.path = removeDots(ref.path)
            result.query = ref.query
        } else if ref.path.isEmpty {
            result.authority = base.authority
            result.path = base.path
            result.query = ref.query ?? base.query
        } else {
            result.authority = base.authority
            if ref.path.hasPrefix("/") {
                result.path = removeDots(ref.path)
            } else if base.authority != nil && base.path.isEmpty {
                result.path = removeDots("/" + ref.path)
            } else if let slash = base.path.lastIndex(of: "/") {
                result.path = removeDots(String(base.path[...slash]) + ref.path)
            } else {
                result.path = ref.path
            }
            result.query = ref.query
        }
        return recompose(result, path: result.path)
    }

    static func withoutFragment(_ uri: String) -> String { split(uri).uri }

    /// The URI before `#`, and the fragment percent-decoded.
    static func split(_ uri: String) -> (uri: String, fragment: String) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, "") }
        let fragment = String(uri[uri.index(after: hash)...])
        return (String(uri[..<hash]), fragment.removingPercentEncoding ?? fragment)
    }

    /// A member name as a JSON Pointer token.
    static func escape(_ token: String) -> String {
        guard token.contains("~") || token.contains("/") else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// The value at a JSON Pointer.
    static func navigate(_ root: JSONValue, pointer: String) -> JSONValue? {
        guard !pointer.isEmpty else { return root }
        var value = root
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch value {
            case .object(let object):
                guard let next = object[token] else { return nil }
                value = next
            case .array(let items):
                guard let position = Int(token), items.indices.contains(position) else { return nil }
                value = items[position]
            default:
                return nil
            }
        }
        return value
    }

    struct Parts {
        var scheme: String?
        var authority: String?
        var path = ""
        var query: String?
        var fragment: String?
    }

    static func parts(_ text: String) -> Parts {
        var rest = Substring(text)
        var parts = Parts()
        if let hash = rest.firstIndex(of: "#") {
            parts.fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let colon = rest.firstIndex(of: ":"), !rest[..<colon].isEmpty,
            rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
            rest.first?.isLetter == true
        {
            parts.scheme = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        if let question = rest.firstIndex(of: "?") {
            parts.query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            parts.authority = String(rest[..<end])
            rest = rest[end...]
        }
        parts.path = String(rest)
        return parts
    }

    static func recompose(_ parts: Parts, path: String) -> String {
        var text = ""
        if let scheme = parts.scheme { text += scheme + ":" }
        if let authority = parts.authority { text += "//" + authority }
        text += path
        if let query = parts.query { text += "?" + query }
        if let fragment = parts.fragment { text += "#" + fragment }
        return text
    }

    /// RFC 3986 §5.2.4.
    static func removeDots(_ path: String) -> String {
        guard path.contains(".") else { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            switch segment {
            case ".":
                if index == segments.count - 1 { output.append("") }
            case "..":
                if output.count > 1 { output.removeLast() }
                if index == segments.count - 1 { output.append("") }
            default:
                output.append(segment)
            }
        }
        return output.joined(separator: "/")
    }
}
