import Foundation
import GRDB

/// SQL functions that merge rollup columns, registered on every writer connection so that a
/// rollup row is updated by one `INSERT … ON CONFLICT DO UPDATE`.
enum MergeFunctions {
    /// `switchboard_merge_counts(a, b)`: the sum of two `{"class": count}` JSON objects.
    static let counts = DatabaseFunction("switchboard_merge_counts", argumentCount: 2, pure: true) { values in
        let left = String.fromDatabaseValue(values[0]) ?? "{}"
        let right = String.fromDatabaseValue(values[1]) ?? "{}"
        if left == "{}" { return right }
        if right == "{}" { return left }
        var counters = RollupCounters()
        counters.errorClasses = RollupCounters.errorClasses(fromJSON: left)
        for (name, count) in RollupCounters.errorClasses(fromJSON: right) {
            counters.errorClasses[name, default: 0] += count
        }
        return counters.errorClassesJSON
    }

    /// `switchboard_merge_histograms(a, b)`: two encoded ``LogHistogram``s merged.
    static let histograms = DatabaseFunction("switchboard_merge_histograms", argumentCount: 2, pure: true) { values in
        let left = Data.fromDatabaseValue(values[0])
        let right = Data.fromDatabaseValue(values[1])
        guard let left else { return right }
        guard let right else { return left }
        guard var merged = LogHistogram(encoded: Array(left)), let other = LogHistogram(encoded: Array(right)) else {
            return left
        }
        merged.merge(other)
        return Data(merged.encoded)
    }
}
