import Foundation
import SwitchboardJournal

/// Spend per user in the current budget period (the spend pane's budget bars), kept between
/// refreshes. A month of hourly rollups takes tens of milliseconds to read on a large journal, so
/// the hours already closed are read once and only the current hour, from its hour rows, on each
/// refresh.
///
/// Rollups go by when a call started and a row is written when the call ends, so a call can land
/// in an hour already read (one that ran across the hour's end, or from a writer running late).
/// Each refresh asks for the earliest start among the calls committed since the last one and
/// reads again the part it fell in: the last closed hour alone in the usual case, everything when
/// it is older.
public struct PeriodSpend: Sendable {
    /// The period start the kept parts were read for.
    private var start: Date?
    /// The closed hours end here.
    private var through = Date.distantPast
    /// Spend in `[start, through − 1 h)`.
    private var settled: [String: Int64] = [:]
    /// Spend in the last closed hour, `[through − 1 h, through)`.
    private var lastHour: [String: Int64] = [:]
    /// The newest call row when the parts were last brought up to date.
    private var watermark: Int64 = 0

    /// Reads of rollup ranges since the start: what the tests count.
    public private(set) var reads = 0

    public init() {}

    /// Spend per user (nano-dollars) from `start` to `now`.
    public mutating func read(_ reader: JournalReader, from start: Date, to now: Date) throws(JournalError)
        -> [String: Int64]
    {
        let hour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3_600).rounded(.down) * 3_600)
        let through = max(start, hour)
        // Before the reads: a call committed while they run is checked again on the next refresh.
        let newest = try reader.lastCallID()
        if self.start != start || through < self.through || newest < watermark {
            // A new period, a clock gone back or another journal: read it all.
            try reset(reader, start: start, through: through)
        } else {
            if let earliest = try reader.earliestStart(after: watermark), earliest < self.through {
                if earliest >= self.through.addingTimeInterval(-3_600) {
                    lastHour = try spend(
                        reader,
                        from: max(start, self.through.addingTimeInterval(-3_600)),
                        to: self.through
                    )
                } else {
                    try reset(reader, start: start, through: self.through)
                }
            }
            if through > self.through {
                // Hours closed since: the previous last hour and any between are settled.
                let lastStart = max(start, through.addingTimeInterval(-3_600))
                settled.merge(lastHour, uniquingKeysWith: +)
                if lastStart > self.through {
                    settled.merge(try spend(reader, from: self.through, to: lastStart), uniquingKeysWith: +)
                }
                lastHour = try spend(reader, from: lastStart, to: through)
                self.through = through
            }
        }
        watermark = newest
        var total = settled
        total.merge(lastHour, uniquingKeysWith: +)
        if now > self.through {
            // The current hour from its hour rows: one per user, where its minutes are up to sixty.
            reads += 1
            let current = try reader.hour(startingAt: self.through, by: .user, details: false)
            total.merge(current.mapValues(\.costNanoUSD), uniquingKeysWith: +)
        }
        return total
    }

    private mutating func reset(_ reader: JournalReader, start: Date, through: Date) throws(JournalError) {
        let lastStart = max(start, through.addingTimeInterval(-3_600))
        settled = try spend(reader, from: start, to: lastStart)
        lastHour = try spend(reader, from: lastStart, to: through)
        self.start = start
        self.through = through
    }

    private mutating func spend(_ reader: JournalReader, from: Date, to: Date) throws(JournalError) -> [String: Int64] {
        guard from < to else { return [:] }
        reads += 1
        return try reader.aggregate(from: from, to: to, by: .user, details: false).mapValues(\.costNanoUSD)
    }
}
