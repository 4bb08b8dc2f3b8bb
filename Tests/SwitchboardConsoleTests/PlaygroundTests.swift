import Foundation
import SwitchboardConsole
import SwitchboardCore
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

/// The playground headless, sending through a real pipeline to the simulator over HTTP.
@Suite struct PlaygroundTests {
    static func app(_ bench: PipelineFixture) -> ConsoleApp {
        ConsoleApp(
            journal: ConsoleJournal(path: bench.journalPath),
            configuration: bench.pipeline.configuration,
            theme: .dark,
            ascii: false,
            sender: PipelineSender(pipeline: bench.pipeline, user: "ops")
        )
    }

    static func type(_ text: String, into app: ConsoleApp) {
        for character in text { app.handle(character == "\n" ? .enter : .character(character)) }
    }

    /// Drains the playground until no answer is still coming.
    static func settle(_ app: ConsoleApp) async throws {
        try await poll("the playground's answers", timeout: .seconds(30)) {
            app.playground.drain()
            return !app.playground.isRunning
        }
    }

    @Test func aPromptIsEditedSentAndItsAnswerAndFiguresShown() async throws {
        let run = try await withPipeline { bench in
            let app = Self.app(bench)
            app.handle(.character("p"))
            #expect(app.screen == .playground)
            Self.type("What is the refund window?", into: app)
            app.handle(.tab)
            app.handle(.paste("You are the support assistant.\r\nAnswer briefly."))
            #expect(app.playground.system.text == "You are the support assistant.\nAnswer briefly.")
            #expect(app.playground.user.text == "What is the refund window?")
            // `q` and `c` are text here, not keys of the console.
            app.handle(.tab)
            Self.type(" q c", into: app)
            #expect(app.screen == .playground && !app.quitting)
            #expect(app.playground.user.text == "What is the refund window? q c")
            // Undo goes word by word.
            app.handle(.control("z"))
            #expect(app.playground.user.text == "What is the refund window? q ")
            app.handle(.control("z"))
            app.handle(.backspace)
            #expect(app.playground.user.text == "What is the refund window?")

            app.handle(.control("s"))
            try await Self.settle(app)
            let answer = try #require(app.playground.runs.first)
            guard case .finished(let figures) = answer.status else {
                Issue.record("the call did not finish: \(answer.status)")
                return ""
            }
            #expect(answer.text.hasPrefix("Simulated answer from"))
            #expect(figures.attempts == 1 && figures.outputTokens > 0 && (figures.costNanoUSD ?? 0) > 0)
            let screen = app.frame(width: 170, height: 36).text
            #expect(screen.contains("Playground · route default"))
            #expect(screen.contains("billed to ops"))
            #expect(screen.contains("You are the support assistant."))
            #expect(screen.contains("Simulated answer from"))
            #expect(screen.contains("1 attempt") && screen.contains(figures.requestID))
            #expect(screen.contains("Ctrl-S send"))
            return figures.requestID
        }
        let row = try #require(try run.journal.call(requestID: run.value))
        #expect(row.summary.origin == "playground" && row.summary.userID == "ops")
        #expect(row.requestBody?.contains("You are the support assistant.") == true)
    }

    @Test func escapeCancelsACallInFlightUpstream() async throws {
        _ = try await withPipeline { bench in
            bench.simulator.enqueue([.slowStream(interval: .milliseconds(300))], provider: .openAI)
            let app = Self.app(bench)
            app.handle(.character("p"))
            Self.type("Tell me a long story", into: app)
            app.handle(.control("s"))
            try await poll("the first words", timeout: .seconds(30)) {
                app.playground.drain()
                return !(app.playground.runs.first?.text.isEmpty ?? true)
            }
            app.handle(.escape)
            #expect(app.playground.runs.first?.status == .cancelled)
            #expect(app.screen == .playground, "the first Esc cancels, it does not leave")
            try await poll("the simulator saw the client leave", timeout: .seconds(10)) {
                bench.simulator.stats.snapshot.cancelledConnections == 1
            }
            #expect(bench.simulator.stats.snapshot.streamsCompleted == 0)
            #expect(app.frame(width: 100, height: 30).text.contains("cancelled upstream"))
            app.handle(.escape)
            #expect(app.screen == .overview)
        }
    }

    @Test func twoRoutesCompareSideBySide() async throws {
        _ = try await withPipeline { bench in
            let app = Self.app(bench)
            app.handle(.character("p"))
            Self.type("Name a colour.", into: app)
            app.handle(.control("k"))
            let compared = try #require(app.playground.compareRoute)
            #expect(compared != app.playground.route)
            app.handle(.control("t"))
            #expect(app.playground.temperature == 0)
            app.handle(.control("o"))
            #expect(!app.playground.stream)
            app.handle(.control("s"))
            try await Self.settle(app)
            #expect(app.playground.runs.map(\.route) == [app.playground.route, compared])
            for run in app.playground.runs {
                guard case .finished = run.status else {
                    Issue.record("\(run.route): \(run.status)")
                    continue
                }
            }
            let screen = app.frame(width: 140, height: 36).text
            #expect(screen.contains(" · \(app.playground.route) ─") && screen.contains(" · \(compared) ─"))
            #expect(screen.contains("temperature 0") && screen.contains("stream off"))
        }
    }

    @Test func aFailedCallOpensInThePlaygroundAndIsSentAgain() async throws {
        let run = try await withPipeline(configure: { $0.resilience.retry.maxAttempts = 1 }) { bench in
            // A call that fails: both providers answer 500 once each.
            bench.simulator.enqueue([.status(500)], provider: .openAI)
            bench.simulator.enqueue([.status(500)], provider: .anthropic)
            var context = CallContext(userID: "carol")
            context.requestID = "req_failed_for_playground"
            var request = openAIRequest("Why did this fail?")
            request.messages.insert(.system("Be terse."), at: 0)
            await #expect(throws: (any Error).self) { try await bench.pipeline.chat(request, context: context) }
            try await poll("the failed call journaled") {
                (try? bench.reader().call(requestID: "req_failed_for_playground")) != nil
            }
            let app = Self.app(bench)
            app.reload()
            // `r` on the selected error of the overview, and on the call's detail.
            app.handle(.character("r"))
            #expect(app.screen == .playground && app.playground.user.text == "Why did this fail?")
            app.handle(.escape)
            app.handle(.enter)  // the newest error
            #expect(app.screen == .detail("req_failed_for_playground"))
            app.handle(.character("r"))
            #expect(app.screen == .playground)
            #expect(app.playground.system.text == "Be terse." && app.playground.user.text == "Why did this fail?")
            app.handle(.control("s"))
            try await Self.settle(app)
            guard case .finished(let figures) = app.playground.runs.first?.status else {
                Issue.record("the replay did not finish: \(String(describing: app.playground.runs.first?.status))")
                return ""
            }
            return figures.requestID
        }
        #expect(try run.journal.call(requestID: run.value)?.summary.origin == "playground")
    }

    @Test func aSchemaFileSetsTheResponseFormat() async throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/answer.schema.json"
        try #"{"type":"object","properties":{"days":{"type":"integer"}},"required":["days"]}"#.write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        _ = try await withPipeline { bench in
            let app = Self.app(bench)
            app.handle(.character("p"))
            app.handle(.control("g"))
            #expect(app.prompt?.kind == "s")
            app.handle(.paste(path))
            app.handle(.enter)
            #expect(app.playground.schema?.path == path)
            #expect(app.frame(width: 140, height: 30).text.contains("schema answer.schema.json"))
            Self.type("How many days?", into: app)
            app.handle(.control("s"))
            try await Self.settle(app)
            let text = try #require(app.playground.runs.first?.text)
            #expect((try? JSONValue.parse(text))?["days"]?.intValue != nil, "a structured answer: \(text)")
        }
    }
}
