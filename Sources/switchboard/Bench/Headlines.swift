import ArgumentParser
import Foundation

/// One headline figure of a benchmark: a row of the table `switchboard bench` prints.
struct Headline: Codable, Sendable, Equatable {
    /// What is measured: journal, limiter, cache, validation, gateway, console…
    var area: String
    var benchmark: String
    var result: String
    /// The goal, or `–` for a row without one.
    var goal: String
    /// Whether the goal was met; `nil` for a row without a goal (or one that did not run).
    var met: Bool?
    /// The features that were on, in a few words.
    var features: String

    init(_ area: String, _ benchmark: String, _ result: String, goal: String = "–", met: Bool? = nil, features: String)
    {
        self.area = area
        self.benchmark = benchmark
        self.result = result
        self.goal = goal
        self.met = met
        self.features = features
    }
}

/// Where a benchmark run as a part of `switchboard bench` leaves its headlines
/// (`--headlines FILE`, not shown in the help).
struct HeadlineFile: ParsableArguments {
    @Option(help: .hidden) var headlines: String?
}

/// The headlines a benchmark collects as it runs.
struct Headlines {
    private(set) var rows: [Headline] = []

    mutating func add(_ row: Headline) { rows.append(row) }

    /// Writes the rows where `file` says (nothing when the benchmark runs alone).
    func save(_ file: HeadlineFile) throws {
        guard let path = file.headlines else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        try encoder.encode(rows).write(to: URL(fileURLWithPath: path))
    }

    static func load(path: String) throws -> [Headline] {
        try JSONDecoder().decode([Headline].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

extension Timings {
    /// `p50 X, p99 Y`, each in the unit that fits it.
    var summary: String { "p50 \(CacheBench.format(percentile(0.5))), p99 \(CacheBench.format(percentile(0.99)))" }
}
