import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

struct SimulatorFaultTests {
    @Test(arguments: [
        ("500", 500, "server_error", "The server had an error while processing your request. Sorry about that!"),
        (
            "503", 503, "server_error",
            "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists."
        ),
        (
            "529", 503, "server_error",
            "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists."
        ),
    ])
    func openAIStatusFaultsCarryOpenAIsBodies(fault: String, status: Int, type: String, message: String) async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.chat(chatBody(), headers: [("x-sim-fault", fault)])
            #expect(response.status == status)
            let error = try OpenAI.ErrorBody(json: response.json())
            #expect(error.type == type)
            #expect(error.message == message)
            #expect(try await sim.stats()["faults"]?[fault] == 1)
        }
    }

    @Test(arguments: [
        ("529", 529, "overloaded_error", "Overloaded"), ("500", 500, "api_error", "Internal server error"),
    ])
    func anthropicStatusFaultsCarryAnthropicsBodies(fault: String, status: Int, type: String, message: String)
        async throws
    {
        try await withSimulator { sim async throws in
            let response = try await sim.messages(messagesBody(), headers: [("x-sim-fault", fault)])
            #expect(response.status == status)
            #expect(response.header("x-should-retry") == "true")
            #expect(
                try Anthropic.ErrorBody(json: response.json()).error
                    == Anthropic.ErrorDetail(type: type, message: message)
            )
        }
    }

    @Test func scriptedRateLimitsAdvertiseTheirDelayInBothFamilies() async throws {
        try await withSimulator { sim async throws in
            let openAI = try await sim.chat(chatBody(), headers: [("x-sim-fault", "429; retry-after=2.5")])
            #expect(openAI.status == 429)
            #expect(openAI.header("retry-after") == "3")
            #expect(openAI.header("retry-after-ms") == "2500")
            #expect(try OpenAI.ErrorBody(json: openAI.json()).message.contains("Please try again in 2.5s."))
            let anthropic = try await sim.messages(messagesBody(), headers: [("x-sim-fault", "429;retry-after=1")])
            #expect(anthropic.header("retry-after") == "1")
            #expect(anthropic.header("retry-after-ms") == nil)
        }
    }

    @Test func resetClosesTheConnectionBeforeAnyByte() async throws {
        try await withSimulator { sim async throws in
            await #expect(throws: (any Error).self) {
                try await sim.chat(chatBody(), headers: [("x-sim-fault", "reset")])
            }
            let stats = try await sim.stats()
            #expect(stats["faults"]?["reset"] == 1)
            #expect(stats["connections"]?["cancelled"] == 0)
        }
    }

    @Test func aStalledRequestIsSeenCancelledWhenTheClientGivesUp() async throws {
        try await withSimulator { sim async throws in
            await #expect(throws: (any Error).self) {
                try await TestHTTP.post(
                    "\(sim.baseURL)/v1/messages",
                    headers: [("x-api-key", simKey), ("x-sim-fault", "stall")],
                    bytes: messagesBody().serializedBytes(),
                    timeout: .milliseconds(300)
                )
            }
            try await poll("the simulator to see the stalled connection close") {
                let stats = try await sim.stats()
                return stats["connections"]?["cancelled"] == 1 && stats["in_flight"] == 0
            }
        }
    }

    @Test func malformedBodiesAreNotJSON() async throws {
        try await withSimulator { sim async throws in
            let whole = try await sim.chat(chatBody(), headers: [("x-sim-fault", "malformed")])
            #expect(whole.status == 200)
            #expect(throws: JSONParseError.self) { try whole.json() }
            let stream = try await sim.messages(
                messagesBody(extra: ["stream": true]),
                headers: [("x-sim-fault", "malformed")]
            )
            let events = try stream.events()
            #expect(throws: JSONParseError.self) { try JSONValue.parse(events[1].data) }
        }
    }

    @Test func midStreamErrorsStopHalfwayWithTheProvidersErrorEvent() async throws {
        try await withSimulator { sim async throws in
            let openAI = try await sim.chat(
                chatBody(extra: ["stream": true]),
                headers: [("x-sim-fault", "mid-stream-error")]
            )
            let events = try openAI.events()
            #expect(events.last?.data.hasPrefix(#"{"error":{"message":"The server had an error"#) == true)
            #expect(!events.contains { $0.data == "[DONE]" })
            #expect(events.dropLast().contains { $0.data.contains(#""content":"Simulated""#) })

            let anthropic = try await sim.messages(
                messagesBody(extra: ["stream": true]),
                headers: [("x-sim-fault", "mid-stream-error")]
            )
            let last = try #require(try anthropic.events().last)
            #expect(last.event == "error")
            #expect(
                try Anthropic.StreamEvent(json: JSONValue.parse(last.data))
                    == .error(Anthropic.ErrorDetail(type: "overloaded_error", message: "Overloaded"))
            )
        }
    }

    @Test func slowStreamsAreSpacedByTheirInterval() throws {
        let simulator = Simulator(configuration: .testing)
        let reply = simulator.reply(
            to: Simulator.Request(
                endpoint: .chatCompletions,
                headers: [
                    HeaderField("authorization", "Bearer \(simKey)"),
                    HeaderField("x-sim-fault", "slow-stream;interval=750ms"),
                ],
                body: chatBody(extra: ["stream": true]).serializedBytes()
            )
        )
        guard case .stream(_, let plan) = reply else {
            Issue.record("expected a stream, got \(reply)")
            return
        }
        #expect(plan.slowInterval == .milliseconds(750))
        #expect(plan.cutAfter == nil)
    }

    @Test func queuedFaultsApplyInOrderToMatchingRequests() async throws {
        try await withSimulator { sim async throws in
            let queued = try await TestHTTP.post(
                "\(sim.baseURL)/sim/faults",
                json: ["faults": ["503", "ok", "529"], "provider": "anthropic"]
            )
            #expect(try queued.json()["queued"] == ["503", "ok", "529"])
            #expect(try await sim.chat(chatBody()).status == 200)
            #expect(try await sim.messages(messagesBody()).status == 503)
            #expect(try await sim.messages(messagesBody()).status == 200)
            #expect(try await sim.messages(messagesBody()).status == 529)
            #expect(try await sim.messages(messagesBody()).status == 200)
            let bad = try await TestHTTP.post("\(sim.baseURL)/sim/faults", json: ["explode"])
            #expect(bad.status == 400)
        }
    }

    @Test func randomFaultsFollowTheSeed() async throws {
        var configuration = SimulatorConfiguration.testing
        configuration.faults.rates = [(.status(500), 0.2)]
        func statuses() async throws -> [Int] {
            try await withSimulator(configuration) { sim async throws in
                var statuses: [Int] = []
                for _ in 0..<100 { statuses.append(try await sim.chat(chatBody()).status) }
                return statuses
            }
        }
        let first = try await statuses()
        #expect(try await statuses() == first)
        let failures = first.filter { $0 == 500 }.count
        #expect((8...35).contains(failures), "\(failures) failures in 100 at rate 0.2")
    }

    @Test func anOutageFailsOneProviderUntilItEnds() async throws {
        let clock = ManualClock()
        try await withSimulator(now: clock.now) { sim async throws in
            let started = try await TestHTTP.post(
                "\(sim.baseURL)/sim/outage",
                json: ["provider": "anthropic", "for": "30s"]
            )
            #expect(try started.json()["status"] == 529)
            #expect(try await sim.messages(messagesBody()).status == 529)
            #expect(try await sim.chat(chatBody()).status == 200)
            clock.advance(by: .seconds(31))
            #expect(try await sim.messages(messagesBody()).status == 200)
        }
    }

    @Test func statsCountWhatReachedTheProvider() async throws {
        try await withSimulator { sim async throws in
            _ = try await sim.chat(chatBody())
            _ = try await sim.chat(chatBody(extra: ["stream": true]))
            _ = try await sim.messages(messagesBody(), headers: [("x-sim-fault", "529")])
            let stats = try await sim.stats()
            #expect(stats["requests"] == 3)
            #expect(stats["by_endpoint"] == ["chat.completions": 2, "messages": 1])
            #expect(stats["by_status"] == ["200": 2, "529": 1])
            #expect(stats["streams"] == ["started": 1, "completed": 1])
            #expect(stats["in_flight"] == 0)
            _ = try await TestHTTP.post("\(sim.baseURL)/sim/reset", json: [:])
            #expect(try await sim.stats()["requests"] == 0)
        }
    }
}
