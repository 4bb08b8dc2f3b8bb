import Foundation

/// A sparse log-scale histogram with a guaranteed relative error, after DDSketch (Masson, Rim and
/// Lee, VLDB 2019): bucket `i` holds values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α), and reports
/// 2γ^i/(γ+1), which is within α of every value in it. With α = 1 %, a p99 read from the histogram
/// is within 1 % of the true p99 of the values recorded, at any scale, and histograms merge by
/// adding counts — so per-minute rollups combine into any window exactly.
public struct LogHistogram: Sendable, Equatable {
    /// α: the largest relative error of a quantile.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    /// Values at or below this count as zero (latencies are in milliseconds).
    static let smallest = 1e-3

    /// Bucket index → count.
    private(set) var buckets: [Int32: UInt64] = [:]
    private(set) var zeroCount: UInt64 = 0
    /// Number of values recorded.
    public private(set) var count: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func record(_ value: Double) {
        guard value.isFinite else { return }
        count += 1
        if value <= Self.smallest {
            zeroCount += 1
        } else {
            buckets[Self.index(of: value), default: 0] += 1
        }
    }

    public mutating func merge(_ other: LogHistogram) {
        count += other.count
        zeroCount += other.zeroCount
        for (index, bucketCount) in other.buckets { buckets[index, default: 0] += bucketCount }
    }

    /// The nearest-rank quantile: the value of rank ⌈q·n⌉, within ``relativeAccuracy`` of the
    /// value of that rank among those recorded. `nil` when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen = zeroCount
        if seen >= rank { return 0 }
        for index in buckets.keys.sorted() {
            seen += buckets[index]!
            if seen >= rank { return Self.value(of: index) }
        }
        return buckets.keys.max().map(Self.value(of:))
    }

    static func index(of value: Double) -> Int32 {
        Int32((log(value) / logGamma).rounded(.up))
    }

    static func value(of index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    // MARK: - Encoding

    /// A compact binary form for BLOB columns: a version byte, the zero count, the number of
    /// buckets, then each bucket as a zigzag varint index delta and a varint count.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [1]
        Self.appendVarint(zeroCount, to: &bytes)
        Self.appendVarint(UInt64(buckets.count), to: &bytes)
        var previous: Int64 = 0
        for index in buckets.keys.sorted() {
            let delta = Int64(index) - previous
            Self.appendVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), to: &bytes)
            Self.appendVarint(buckets[index]!, to: &bytes)
            previous = Int64(index)
        }
        return bytes
    }

    /// Decodes ``encoded``; `nil` for bytes that are not a histogram.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.first == 1 else { return nil }
        var position = 1
        guard let zeros = Self.readVarint(bytes, &position), let bucketCount = Self.readVarint(bytes, &position) else {
            return nil
        }
        zeroCount = zeros
        count = zeros
        var previous: Int64 = 0
        for _ in 0..<bucketCount {
            guard let zigzag = Self.readVarint(bytes, &position), let bucket = Self.readVarint(bytes, &position) else {
                return nil
            }
            let delta = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            previous += delta
            guard let index = Int32(exactly: previous) else { return nil }
            buckets[index] = bucket
            count += bucket
        }
        guard position == bytes.count else { return nil }
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func readVarint(_ bytes: [UInt8], _ position: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }
}
