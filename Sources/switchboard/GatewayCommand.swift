import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import UnixSignals

/// `switchboard gateway`: the OpenAI- and Anthropic-compatible HTTP front door.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the OpenAI- and Anthropic-compatible endpoints through the resilience core.",
        discussion: """
            Apps change only their SDK's base URL (http://HOST:PORT/v1 for OpenAI, http://HOST:PORT for \
            Anthropic) and use a Switchboard key from `switchboard keys create`. SIGTERM or SIGINT drains: \
            new requests get 503 shutting_down, in-flight ones finish (up to gateway.drain_timeout), the \
            journal is flushed.
            """
    )

    @OptionGroup var config: ConfigOptions

    @Option(help: "Address to listen on (default: the host of gateway.listen).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port (default: the port of gateway.listen).")
    var port: Int?

    @Option(help: "The journal file (default: the configuration's journal.path).")
    var journal: String?

    @Option(help: "The state database with the virtual keys (default: the configuration's state.sqlite_path).")
    var state: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        var configuration = try config.load()
        if let journal { configuration.journal.path = journal }
        if let state { configuration.state.sqlitePath = state }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning or error")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchboard.gateway")
        // A file that reaches its size limit (RLIMIT_FSIZE) fails the write with EFBIG, which the
        // journal reports as a full disk, instead of killing the process with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)

        let writer: JournalWriter
        let pipeline: Pipeline
        let keys: VirtualKeyStore
        do {
            writer = JournalWriter(
                journal: try Journal.open(configuration.journal.journalConfiguration),
                logger: logger
            )
            pipeline = try Pipeline(configuration: configuration, journal: writer, logger: logger)
            keys = try VirtualKeyStore(path: configuration.state.sqlitePath)
        } catch let error as JournalError {
            throw CommandFailure("the journal cannot be opened: \(error.message)")
        } catch let error as VirtualKeyError {
            throw CommandFailure(error.message)
        } catch {
            throw CommandFailure("\(error)")
        }
        let gateway = Gateway(pipeline: pipeline, keys: keys, logger: logger)
        let shownHost = host ?? (try? Gateway.listenAddress(configuration.gateway.listen).host) ?? ""
        let application = try gateway.makeApplication(host: host, port: port) { port in
            Self.printBanner(host: shownHost, port: port)
        }
        let services = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: writer),
                    .init(service: GatewayService(gateway: gateway, application: application)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ).withDrainTimeout(configuration.gateway.drainTimeout)
        )
        do {
            try await services.run()
        } catch {
            throw CommandFailure(Self.listenFailure(error, host: shownHost, port: port) ?? "\(error)")
        }
        let statistics = writer.statistics
        logger.info(
            "gateway stopped; journal flushed",
            metadata: ["calls_written": "\(statistics.writtenCalls)", "dropped": "\(statistics.dropped)"]
        )
    }

    /// What a failed bind means and what to do, or `nil` for another error.
    static func listenFailure(_ error: any Error, host: String, port: Int?) -> String? {
        guard let io = error as? IOError, io.description.contains("bind") else { return nil }
        let address = "\(host):\(port.map(String.init) ?? "(the configured port)")"
        switch io.errnoCode {
        case EADDRINUSE:
            return
                "cannot listen on \(address): another process holds the port; stop it, or pick another port (--port N, or 0 for a free one)"
        case EACCES:
            return "cannot listen on \(address): ports below 1024 need privileges; use a port above 1023"
        case EADDRNOTAVAIL:
            return
                "cannot listen on \(address): this machine has no such address; use 127.0.0.1, 0.0.0.0 or one of its own"
        default:
            return "cannot listen on \(address): \(io)"
        }
    }

    private static func printBanner(host: String, port: Int) {
        let shown = host == "0.0.0.0" || host.isEmpty ? "127.0.0.1" : host
        let base = "http://\(shown):\(port)"
        let banner = """
            switchboard gateway listening on \(base)
              openai:    OpenAI(base_url="\(base)/v1", api_key="sk-sb-…")
              anthropic: Anthropic(base_url="\(base)", api_key="sk-sb-…")
              keys:      switchboard keys create --user NAME
              metrics:   curl -s \(base)/metrics

            """
        printNow(banner)
    }
}

extension ServiceGroupConfiguration {
    /// Graceful shutdown bounded: past `timeout`, what is still running is cancelled.
    func withDrainTimeout(_ timeout: Duration) -> ServiceGroupConfiguration {
        var configuration = self
        configuration.maximumGracefulShutdownDuration = timeout
        return configuration
    }
}
