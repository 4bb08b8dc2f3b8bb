import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

/// The simulator's streams are framed like the recorded provider streams: the same framing bytes,
/// the same sequence of events, and every recorded member present in the same order (values differ,
/// and newer API versions add members, such as the prompt-cache usage details).
struct SimulatorGoldenTests {
    /// A frame with its values hidden: framing lines kept, JSON reduced to its skeleton.
    struct Shape: Equatable, CustomStringConvertible {
        var event: String?
        var skeleton: Skeleton?
        var raw: String?
        var description: String { "\(event ?? "-") \(skeleton.map { "\($0)" } ?? raw ?? "")" }
    }

    indirect enum Skeleton: Equatable, CustomStringConvertible {
        case value(String)
        case array([Skeleton])
        case object([(String, Skeleton)])

        static func == (a: Skeleton, b: Skeleton) -> Bool { a.description == b.description }

        init(_ json: JSONValue) {
            switch json {
            case .null: self = .value("null")
            case .bool: self = .value("bool")
            case .integer, .double: self = .value("number")
            case .string: self = .value("string")
            case .array(let elements): self = .array(elements.prefix(1).map(Skeleton.init))
            case .object(let members): self = .object(members.map { ($0.key, Skeleton($0.value)) })
            }
        }

        var description: String {
            switch self {
            case .value(let kind): kind
            case .array(let elements): "[" + elements.map(\.description).joined(separator: ",") + "]"
            case .object(let members): "{" + members.map { "\($0.0):\($0.1)" }.joined(separator: ",") + "}"
            }
        }

        /// Whether every member of `recorded` appears here, in the same order, with a matching shape.
        func covers(_ recorded: Skeleton) -> Bool {
            switch (self, recorded) {
            case (.value(let a), .value(let b)): return a == b
            case (.array(let a), .array(let b)):
                return b.isEmpty || (a.count == b.count && zip(a, b).allSatisfy { $0.covers($1) })
            case (.object(let mine), .object(let theirs)):
                var position = 0
                for (key, shape) in theirs {
                    guard let index = mine[position...].firstIndex(where: { $0.0 == key }), mine[index].1.covers(shape)
                    else { return false }
                    position = index + 1
                }
                return true
            default: return false
            }
        }
    }

    /// Frames as shapes, with runs of content deltas collapsed to one.
    static func shapes(_ stream: String) throws -> [Shape] {
        #expect(stream.hasSuffix("\n\n"))
        var shapes: [Shape] = []
        for frame in stream.components(separatedBy: "\n\n").dropLast() {
            let lines = frame.components(separatedBy: "\n")
            let event = lines.first { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            let data = try #require(lines.first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) })
            #expect(lines.count == (event == nil ? 1 : 2), "unexpected framing: \(frame)")
            let shape =
                data == "[DONE]" || data == #"{"type": "ping"}"#
                ? Shape(event: event, raw: data) : Shape(event: event, skeleton: Skeleton(try JSONValue.parse(data)))
            if let last = shapes.last, last == shape { continue }
            shapes.append(shape)
        }
        return shapes
    }

    static func assertCovers(_ simulated: [Shape], _ recorded: [Shape]) {
        #expect(
            simulated.count == recorded.count,
            "event sequence: \(simulated.map(\.event)) vs \(recorded.map(\.event))"
        )
        for (mine, theirs) in zip(simulated, recorded) {
            #expect(mine.event == theirs.event)
            #expect(mine.raw == theirs.raw)
            if let recordedSkeleton = theirs.skeleton {
                #expect(mine.skeleton?.covers(recordedSkeleton) == true, "\(mine) does not cover \(theirs)")
            }
        }
    }

    @Test func openAIStreamsAreFramedLikeTheRecordedStream() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.chat(
                chatBody(extra: ["stream": true, "stream_options": ["include_usage": true]])
            )
            let recorded = try Self.shapes(RecordedStreams.openAIChatTail)
            // The recording is a tail: one content chunk after the role chunk. Compare from the role chunk on.
            Self.assertCovers(try Self.shapes(response.text), recorded)
        }
    }

    @Test func anthropicStreamsAreFramedLikeTheRecordedStream() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.messages(messagesBody(extra: ["stream": true]))
            Self.assertCovers(try Self.shapes(response.text), try Self.shapes(RecordedStreams.anthropicBasic))
        }
    }
}
