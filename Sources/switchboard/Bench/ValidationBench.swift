import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardValidation
import SwitchboardWire

/// `switchboard bench validation`: checking a typical structured answer against a compiled schema.
struct ValidationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validation",
        abstract:
            "JSON Schema validation of a typical 1 KB structured answer against a compiled schema; local moderation of a prompt."
    )

    @Flag(help: "A short run: 20,000 validations instead of 200,000.") var quick = false
    @OptionGroup var file: HeadlineFile

    static let schema = #"""
        {
          "type": "object",
          "required": ["order_id", "customer", "items", "total", "currency", "status"],
          "additionalProperties": false,
          "properties": {
            "order_id": {"type": "string", "pattern": "^ORD-[0-9]{6}$"},
            "customer": {
              "type": "object",
              "required": ["name", "email"],
              "properties": {
                "name": {"type": "string", "minLength": 1},
                "email": {"type": "string", "format": "email"},
                "tier": {"enum": ["free", "pro", "enterprise"]}
              }
            },
            "items": {
              "type": "array",
              "minItems": 1,
              "items": {
                "type": "object",
                "required": ["sku", "quantity", "price"],
                "properties": {
                  "sku": {"type": "string"},
                  "quantity": {"type": "integer", "minimum": 1},
                  "price": {"type": "number", "minimum": 0},
                  "notes": {"type": ["string", "null"]}
                }
              }
            },
            "total": {"type": "number", "minimum": 0},
            "currency": {"enum": ["USD", "EUR", "GBP"]},
            "status": {"enum": ["pending", "paid", "shipped", "refunded"]},
            "refund": {"$ref": "#/$defs/refund"}
          },
          "$defs": {
            "refund": {
              "type": "object",
              "properties": {"amount": {"type": "number"}, "reason": {"type": "string", "maxLength": 500}},
              "required": ["amount"]
            }
          }
        }
        """#

    static var answer: String {
        let items = (1...9).map { index in
            #"{"sku": "SKU-\#(1000 + index)", "quantity": \#(index), "price": \#(Double(index) * 9.5), "notes": \#(index % 2 == 0 ? "null" : "\"gift wrap, leave at the door\"")}"#
        }
        return #"""
            {"order_id": "ORD-004217", "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "tier": "pro"},
             "items": [\#(items.joined(separator: ", "))],
             "total": 199.5, "currency": "EUR", "status": "refunded",
             "refund": {"amount": 19.0, "reason": "The second item arrived damaged; the customer sent a photo and asked for a partial refund."}}
            """#
    }

    func run() async throws {
        print("machine: \(Machine.description)")
        let count = quick ? 20_000 : 200_000
        var compile = Timings()
        var schema: JSONSchema?
        for _ in 0..<200 { try compile.measure { schema = try JSONSchema(parsing: Self.schema) } }
        guard let schema else { return }
        let text = Self.answer
        let bytes = Array(text.utf8)
        let answer = try JSONValue.parse(bytes)
        guard schema.validate(answer).isEmpty else { throw CommandFailure("the benchmark's answer does not validate") }
        var broken = answer
        if case .object(var object) = broken {
            object["total"] = "199.50"
            broken = .object(object)
        }
        var full = Timings()
        var quickCheck = Timings()
        var parsed = Timings()
        var failing = Timings()
        var sink = 0
        for _ in 0..<count {
            full.measure { sink &+= schema.validate(answer).count }
            quickCheck.measure { sink &+= schema.isValid(answer) ? 1 : 0 }
            try parsed.measure { sink &+= schema.validate(try JSONValue.parse(bytes)).count }
            failing.measure { sink &+= schema.validate(broken).count }
        }
        // Local moderation, which every request's prompt goes through: ASCII text (the moderator's
        // own matcher) and text with an accent (ICU's expressions).
        let prompt =
            "What is the refund window for annual plans? I bought the plan last month and would like to know how to cancel it."
        let accented = prompt + " Merci, café."
        var moderation = Timings()
        var moderationICU = Timings()
        for _ in 0..<(count / 10) {
            moderation.measure { sink &+= LocalModerator.scan(prompt).scores.count }
            moderationICU.measure { sink &+= LocalModerator.scan(accented).scores.count }
        }
        var table = TextTable([("benchmark", .left), ("p50", .right), ("p99", .right), ("goal", .left)])
        func row(_ name: String, _ timings: Timings, goal: String = "") {
            table.add([
                name, String(format: "%.1f µs", timings.percentile(0.5) * 1e6),
                String(format: "%.1f µs", timings.percentile(0.99) * 1e6), goal,
            ])
        }
        row("compile the schema (once per schema)", compile)
        row("validate a valid \(bytes.count)-byte answer (all violations)", full, goal: "< 20 µs")
        row("isValid (stops at the first violation)", quickCheck)
        row("parse + validate", parsed)
        row("validate an invalid answer (1 violation, message built)", failing)
        row("local moderation, \(prompt.utf8.count)-byte ASCII prompt", moderation)
        row("local moderation, \(accented.utf8.count)-byte prompt with an accent (ICU)", moderationICU)
        print(table.rendered, terminator: "")
        var headlines = Headlines()
        let features = "\(bytes.count)-byte answer, compiled schema"
        headlines.add(
            Headline(
                "validation",
                "validate a valid answer",
                full.summary,
                goal: "p50 < 20 µs",
                met: full.percentile(0.5) < 20e-6,
                features: features
            )
        )
        headlines.add(Headline("validation", "parse + validate", parsed.summary, features: features))
        headlines.add(
            Headline(
                "moderation",
                "local moderation of a prompt",
                moderation.summary,
                features: "\(prompt.utf8.count)-byte ASCII prompt, 14 categories and personal data"
            )
        )
        try headlines.save(file)
        print("runs: \(count) of each; schema: 3 levels, $ref, enums, a pattern, 9 array items (checksum \(sink % 7))")
    }
}
