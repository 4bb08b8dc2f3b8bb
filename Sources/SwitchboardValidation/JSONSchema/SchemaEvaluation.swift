import Foundation
import SwitchboardWire

/// Which parts of the instance an evaluation evaluated: the annotations `unevaluatedProperties`
/// and `unevaluatedItems` depend on. Only gathered under a schema that uses them.
struct Annotations {
    var properties: Set<String> = []
    /// Items `0..<itemPrefix` were evaluated, and those in `items`; all of them when `allItems`.
    var itemPrefix = 0
    var items: Set<Int> = []
    var allItems = false

    mutating func absorb(_ other: Annotations) {
        properties.formUnion(other.properties)
        itemPrefix = max(itemPrefix, other.itemPrefix)
        items.formUnion(other.items)
        allItems = allItems || other.allItems
    }

    func evaluatedItem(_ index: Int) -> Bool { allItems || index < itemPrefix || items.contains(index) }
}

/// Whether an evaluation passed, and (when asked for) what it evaluated.
struct Outcome {
    var valid: Bool
    var notes: Annotations?

    static let invalid = Outcome(valid: false, notes: nil)

    mutating func absorb(_ other: Outcome) {
        guard let incoming = other.notes else { return }
        if notes == nil { notes = incoming } else { notes!.absorb(incoming) }
    }
}

/// One validation: the instance path and dynamic scope as it descends, and the violations found.
struct EvaluationContext {
    let program: SchemaProgram
    /// Collect a message for each violation; when false, stop at the first one.
    var collecting: Bool
    private(set) var violations: [SchemaViolation] = []
    private var path: [JSONPath.Component] = []
    private var scope: [Int] = []
    private var depth = 0

    init(program: SchemaProgram, collecting: Bool) {
        self.program = program
        self.collecting = collecting
    }

    private static let maximumDepth = 256

    /// Evaluates node `index` against `instance`. With `annotate`, the outcome says which
    /// properties and items were evaluated.
    mutating func evaluate(_ index: Int, _ instance: JSONValue, annotate: Bool) -> Outcome {
        let node = program.nodes[index]
        let keywords: [Keyword]
        switch node.body {
        case .always(true):
            return Outcome(valid: true, notes: nil)
        case .always(false):
            report("no value is allowed here", node: node, keyword: nil)
            return .invalid
        case .keywords(let list):
            keywords = list
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            report("the schema recurses deeper than \(Self.maximumDepth) levels here", node: node, keyword: nil)
            return .invalid
        }
        let entered = scope.last != node.resource
        if entered { scope.append(node.resource) }
        defer { if entered { scope.removeLast() } }

        let annotate = annotate || node.needsAnnotations
        var outcome = Outcome(valid: true, notes: annotate ? Annotations() : nil)
        for keyword in keywords {
            let passed = check(keyword, instance, node: node, annotate: annotate, outcome: &outcome)
            if !passed {
                outcome.valid = false
                if !collecting { return .invalid }
            }
        }
        return outcome.valid ? outcome : .invalid
    }

    // MARK: - Keywords

    private mutating func check(
        _ keyword: Keyword,
        _ instance: JSONValue,
        node: SchemaNode,
        annotate: Bool,
        outcome: inout Outcome
    ) -> Bool {
        func fail(_ message: @autoclosure () -> String) -> Bool {
            report(message(), node: node, keyword: keyword.name)
            return false
        }
        switch keyword {
        case .ref(let target):
            let result = evaluate(target, instance, annotate: annotate)
            if result.valid { outcome.absorb(result) }
            return result.valid

        case .dynamicRef(let target, let anchor):
            var destination = target
            if let anchor {
                for resource in scope {
                    if let dynamic = program.resources[resource].dynamicAnchors[anchor] {
                        destination = dynamic
                        break
                    }
                }
            }
            let result = evaluate(destination, instance, annotate: annotate)
            if result.valid { outcome.absorb(result) }
            return result.valid

        case .type(let types):
            return types.admits(instance) || fail("expected \(types.description), got \(instance.typeName)")

        case .enumeration(let values):
            return values.contains(instance)
                || fail(
                    "expected one of \(values.map { $0.serialized() }.joined(separator: ", ")), got \(Self.show(instance))"
                )

        case .constant(let value):
            return value == instance || fail("expected \(value.serialized()), got \(Self.show(instance))")

        case .multipleOf(let divisor):
            guard let number = Self.number(instance) else { return true }
            return Self.isMultiple(number, of: divisor, instance: instance)
                || fail("expected a multiple of \(Self.show(divisor)), got \(Self.show(instance))")
        case .maximum(let bound):
            guard let number = Self.number(instance) else { return true }
            return number <= bound || fail("expected at most \(Self.show(bound)), got \(Self.show(instance))")
        case .exclusiveMaximum(let bound):
            guard let number = Self.number(instance) else { return true }
            return number < bound || fail("expected less than \(Self.show(bound)), got \(Self.show(instance))")
        case .minimum(let bound):
            guard let number = Self.number(instance) else { return true }
            return number >= bound || fail("expected at least \(Self.show(bound)), got \(Self.show(instance))")
        case .exclusiveMinimum(let bound):
            guard let number = Self.number(instance) else { return true }
            return number > bound || fail("expected more than \(Self.show(bound)), got \(Self.show(instance))")

        case .maxLength(let bound):
            guard case .string(let text) = instance else { return true }
            let length = text.unicodeScalars.count
            return length <= bound || fail("expected at most \(bound) characters, got \(length)")
        case .minLength(let bound):
            guard case .string(let text) = instance else { return true }
            let length = text.unicodeScalars.count
            return length >= bound || fail("expected at least \(bound) characters, got \(length)")
        case .pattern(let pattern):
            guard case .string(let text) = instance else { return true }
            return pattern.matches(text) || fail("expected to match /\(pattern.source)/, got \(Self.show(instance))")

        case .maxItems(let bound):
            guard case .array(let items) = instance else { return true }
            return items.count <= bound || fail("expected at most \(bound) items, got \(items.count)")
        case .minItems(let bound):
            guard case .array(let items) = instance else { return true }
            return items.count >= bound || fail("expected at least \(bound) items, got \(items.count)")
        case .uniqueItems:
            guard case .array(let items) = instance else { return true }
            for first in items.indices {
                for second in items.indices where second > first && items[first] == items[second] {
                    return fail("expected unique items, but items \(first) and \(second) are equal")
                }
            }
            return true
        case .contains(let schema, let minimum, let maximum):
            guard case .array(let items) = instance else { return true }
            var matched: [Int] = []
            let wasCollecting = collecting
            collecting = false
            for (position, item) in items.enumerated() where evaluate(schema, item, annotate: false).valid {
                matched.append(position)
            }
            collecting = wasCollecting
            if annotate { outcome.notes?.items.formUnion(matched) }
            if matched.count < minimum {
                return fail(
                    minimum == 1
                        ? "expected an item matching 'contains', found none"
                        : "expected at least \(minimum) items matching 'contains', found \(matched.count)"
                )
            }
            if let maximum, matched.count > maximum {
                return fail("expected at most \(maximum) items matching 'contains', found \(matched.count)")
            }
            return true

        case .maxProperties(let bound):
            guard case .object(let object) = instance else { return true }
            return object.count <= bound || fail("expected at most \(bound) properties, got \(object.count)")
        case .minProperties(let bound):
            guard case .object(let object) = instance else { return true }
            return object.count >= bound || fail("expected at least \(bound) properties, got \(object.count)")
        case .required(let names):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for name in names where !Self.has(object, name) {
                passed = fail("missing required property '\(name)'")
                if !collecting { return false }
            }
            return passed
        case .dependentRequired(let pairs):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, needed) in pairs where Self.has(object, name) {
                for other in needed where !Self.has(object, other) {
                    passed = fail("property '\(name)' requires property '\(other)'")
                    if !collecting { return false }
                }
            }
            return passed

        case .allOf(let schemas):
            var passed = true
            for schema in schemas {
                let result = evaluate(schema, instance, annotate: annotate)
                if result.valid { outcome.absorb(result) } else { passed = false }
                if !passed && !collecting { return false }
            }
            return passed
        case .anyOf(let schemas):
            var matched = 0
            let wasCollecting = collecting
            collecting = false
            for schema in schemas {
                let result = evaluate(schema, instance, annotate: annotate)
                if result.valid {
                    matched += 1
                    outcome.absorb(result)
                    if !annotate { break }
                }
            }
            collecting = wasCollecting
            return matched > 0
                || fail("expected to match at least one of the \(schemas.count) schemas in anyOf, matched none")
        case .oneOf(let schemas):
            var matched: [Int] = []
            var results: [Outcome] = []
            let wasCollecting = collecting
            collecting = false
            for (position, schema) in schemas.enumerated() {
                let result = evaluate(schema, instance, annotate: annotate)
                if result.valid {
                    matched.append(position)
                    results.append(result)
                    if matched.count > 1 { break }
                }
            }
            collecting = wasCollecting
            if matched.count == 1 {
                outcome.absorb(results[0])
                return true
            }
            return fail(
                matched.isEmpty
                    ? "expected to match exactly one of the \(schemas.count) schemas in oneOf, matched none"
                    : "expected to match exactly one of the schemas in oneOf, matched \(matched.map(String.init).joined(separator: " and ")) (and maybe more)"
            )
        case .not(let schema):
            let wasCollecting = collecting
            collecting = false
            let result = evaluate(schema, instance, annotate: false)
            collecting = wasCollecting
            return !result.valid || fail("expected not to match the schema in 'not'")
        case .conditional(let condition, let then, let otherwise):
            let wasCollecting = collecting
            collecting = false
            let test = evaluate(condition, instance, annotate: annotate)
            collecting = wasCollecting
            if test.valid { outcome.absorb(test) }
            guard let branch = test.valid ? then : otherwise else { return true }
            let result = evaluate(branch, instance, annotate: annotate)
            if result.valid { outcome.absorb(result) }
            return result.valid
        case .dependentSchemas(let pairs):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, schema) in pairs where object[name] != nil {
                let result = evaluate(schema, instance, annotate: annotate)
                if result.valid { outcome.absorb(result) } else { passed = false }
                if !passed && !collecting { return false }
            }
            return passed

        case .prefixItems(let schemas):
            guard case .array(let items) = instance else { return true }
            let passed = checkItems(items, where: { $0 < schemas.count }, schema: { schemas[$0] })
            if annotate, var notes = outcome.notes {
                notes.itemPrefix = max(notes.itemPrefix, min(schemas.count, items.count))
                outcome.notes = notes
            }
            return passed
        case .items(let schema, let after):
            guard case .array(let items) = instance else { return true }
            let passed = checkItems(items, where: { $0 >= after }, schema: { _ in schema })
            if annotate { outcome.notes?.allItems = true }
            return passed
        case .unevaluatedItems(let schema):
            guard case .array(let items) = instance else { return true }
            let notes = outcome.notes
            let passed = checkItems(items, where: { notes?.evaluatedItem($0) != true }, schema: { _ in schema })
            outcome.notes?.allItems = true
            return passed

        case .properties(let schemas):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, value) in object {
                guard let schema = schemas.lookup(name) else { continue }
                if annotate { outcome.notes?.properties.insert(name) }
                if !member(name, value, schema) {
                    passed = false
                    if !collecting { return false }
                }
            }
            return passed
        case .patternProperties(let schemas):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, value) in object {
                for (pattern, schema) in schemas where pattern.matches(name) {
                    if annotate { outcome.notes?.properties.insert(name) }
                    if !member(name, value, schema) {
                        passed = false
                        if !collecting { return false }
                    }
                }
            }
            return passed
        case .additionalProperties(let schema, let named, let patterns):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, value) in object
            where named.lookup(name) == nil && !patterns.contains(where: { $0.matches(name) }) {
                if !checkExtra(schema, name: name, value: value, node: node, keyword: keyword) {
                    passed = false
                    if !collecting { return false }
                }
                if annotate { outcome.notes?.properties.insert(name) }
            }
            return passed
        case .unevaluatedProperties(let schema):
            guard case .object(let object) = instance else { return true }
            var passed = true
            for (name, value) in object where outcome.notes?.properties.contains(name) != true {
                if !checkExtra(schema, name: name, value: value, node: node, keyword: keyword) {
                    passed = false
                    if !collecting { return false }
                }
                outcome.notes?.properties.insert(name)
            }
            return passed
        case .propertyNames(let schema):
            guard case .object(let object) = instance else { return true }
            var passed = true
            let wasCollecting = collecting
            collecting = false
            var refused: [String] = []
            for name in object.keys where !evaluate(schema, .string(name), annotate: false).valid {
                refused.append(name)
                passed = false
                if !wasCollecting { break }
            }
            collecting = wasCollecting
            for name in refused { _ = fail("property name '\(name)' does not match propertyNames") }
            return passed
        }
    }

    /// Evaluates the items at the positions `selected` picks against `schema(position)`.
    private mutating func checkItems(_ items: [JSONValue], where selected: (Int) -> Bool, schema: (Int) -> Int) -> Bool
    {
        var passed = true
        for position in items.indices where selected(position) {
            path.append(.index(position))
            let valid = evaluate(schema(position), items[position], annotate: false).valid
            path.removeLast()
            if !valid {
                passed = false
                if !collecting { return false }
            }
        }
        return passed
    }

    /// A property that only `additionalProperties` or `unevaluatedProperties` covers; `false`
    /// there reads "property 'x' is not allowed".
    private mutating func checkExtra(_ schema: Int, name: String, value: JSONValue, node: SchemaNode, keyword: Keyword)
        -> Bool
    {
        if case .always(false) = program.nodes[schema].body {
            path.append(.key(name))
            report("property '\(name)' is not allowed", node: node, keyword: keyword.name)
            path.removeLast()
            return false
        }
        return member(name, value, schema)
    }

    /// Evaluates an object member's value against `schema`, at the member's path.
    private mutating func member(_ name: String, _ value: JSONValue, _ schema: Int) -> Bool {
        path.append(.key(name))
        defer { path.removeLast() }
        return evaluate(schema, value, annotate: false).valid
    }

    private mutating func report(_ message: @autoclosure () -> String, node: SchemaNode, keyword: String?) {
        guard collecting else { return }
        let schemaPath = keyword.map { node.location + "/" + $0 } ?? node.location
        violations.append(
            SchemaViolation(instancePath: JSONPath(path).pointer, schemaPath: schemaPath, message: message())
        )
    }

    /// Whether `object` has a member `name`: a scan for small objects, which beats hashing.
    static func has(_ object: JSONObject, _ name: String) -> Bool {
        guard object.count > NameTable.scanLimit else { return object.keys.elements.contains(name) }
        return object[name] != nil
    }

    // MARK: - Numbers

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func isMultiple(_ number: Double, of divisor: Double, instance: JSONValue) -> Bool {
        if case .integer(let whole) = instance, divisor.rounded() == divisor, abs(divisor) < 9.0e18 {
            return whole % Int(divisor) == 0
        }
        let quotient = number / divisor
        guard quotient.isFinite else { return false }
        return abs(quotient - quotient.rounded()) < 1e-9 * max(1, abs(quotient))
    }

    static func show(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    /// A value in a message, cut short when long.
    static func show(_ value: JSONValue) -> String {
        let text = value.serialized()
        return text.count > 60 ? String(text.prefix(57)) + "…" : text
    }
}
