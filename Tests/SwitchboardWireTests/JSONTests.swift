import Foundation
import Testing

@testable import SwitchboardWire

struct JSONTests {
    @Test func parsingKeepsMemberOrderAndWritingRestoresIt() throws {
        let text = #"{"zeta":1,"alpha":[true,false,null],"mid":{"b":"x","a":-2.5e-3}}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.keys.elements == ["zeta", "alpha", "mid"])
        #expect(value.serialized() == text.replacingOccurrences(of: "-2.5e-3", with: "-0.0025"))
    }

    @Test(arguments: [
        (#"{"b":1,"a":{"d":[1,2.0],"c":"x"}}"#, #"{"a":{"c":"x","d":[1,2]},"b":1}"#),
        (#"{ "a" : 1.0 , "b":-0.0 }"#, #"{"a":1,"b":0}"#),
        (#"[1e2, 0.5, 10000000000000000000000]"#, #"[100,0.5,1e+22]"#),
    ])
    func canonicalFormSortsKeysAndNormalisesNumbers(input: String, canonical: String) throws {
        #expect(try JSONValue.parse(input).serialized(.canonical) == canonical)
    }

    @Test func equalityIgnoresMemberOrderAndIntegerSpelling() throws {
        let a = try JSONValue.parse(#"{"x":1,"y":[1.0,"s"]}"#)
        let b = try JSONValue.parse(#"{"y":[1,"s"],"x":1.0}"#)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(try JSONValue.parse("1.5") != JSONValue.parse("1"))
    }

    @Test func integersSurviveRoundTripsExactly() throws {
        let value = try JSONValue.parse("9007199254740993")
        #expect(value == .integer(9_007_199_254_740_993))
        #expect(value.serialized() == "9007199254740993")
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let value = try JSONValue.parse(#""a\"b\\c\/\n\t\u00e9\ud83d\ude00""#)
        #expect(value.stringValue == "a\"b\\c/\n\té😀")
        #expect(value.serialized() == #""a\"b\\c/\n\té😀""#)
    }

    @Test func controlCharactersAreEscapedOnOutput() {
        #expect(JSONValue.string("\u{01}x\u{1F}").serialized() == #""\u0001x\u001f""#)
    }

    @Test(arguments: [
        ("", "the body is empty; expected a JSON value", 1, 1),
        ("{\"a\":1,}", "expected a string key in double quotes, found '}'", 1, 8),
        ("{\n  \"a\": tru\n}", "invalid literal; expected 'true'", 2, 8),
        ("[1,2", "unexpected end of JSON inside an array", 1, 5),
        ("01", "invalid number: leading zeros are not allowed", 1, 1),
        ("{\"a\":1} x", "unexpected data after the JSON value", 1, 9),
        ("\"\\x\"", "invalid escape sequence '\\x'", 1, 2),
        ("\"\\ud800\"", "a high surrogate \\u escape must be followed by a low surrogate", 1, 2),
        ("NaN", "unexpected character 'N'; expected a JSON value", 1, 1),
    ])
    func syntaxErrorsNameWhatAndWhere(input: String, reason: String, line: Int, column: Int) {
        #expect(
            throws: JSONParseError(
                reason: reason,
                offset: offsetOf(line: line, column: column, in: input),
                line: line,
                column: column
            )
        ) {
            try JSONValue.parse(input)
        }
    }

    @Test func invalidUTF8IsRefusedWithItsOffset() {
        let bytes: [UInt8] = Array(#"{"k":"ab"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.reason == "a string contains invalid UTF-8")
            #expect(error.offset == 8)
        }
    }

    @Test func nestingDeeperThanTheLimitIsRefusedNotOverflowed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect((try? JSONValue.parse(ok)) != nil)
    }

    @Test func prettyPrintingIndentsTwoSpaces() throws {
        let value = try JSONValue.parse(#"{"a":[1,{}],"b":{}}"#)
        #expect(value.serialized(.prettyPrinted) == "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {}\n}")
    }

    @Test func pathsRenderForPeopleAndAsPointers() {
        let path = JSONPath.root.appending("messages").appending(2).appending("a/b~c")
        #expect(path.description == "messages[2].a/b~c")
        #expect(path.pointer == "/messages/2/a~1b~0c")
    }

    private func offsetOf(line: Int, column: Int, in text: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.prefix(line - 1).reduce(0) { $0 + $1.utf8.count + 1 } + column - 1
    }
}
