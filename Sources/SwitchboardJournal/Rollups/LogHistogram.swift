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

    /// (bucket index, count), sorted by index: a few buckets per rollup row, so an array beats a
    /// dictionary for recording, merging and encoding.
    private(set) var buckets: [(index: Int32, count: UInt64)] = []
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
            add(Self.index(of: value), 1)
        }
    }

    private mutating func add(_ index: Int32, _ amount: UInt64) {
        var low = 0
        var high = buckets.count
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle].index < index { low = middle + 1 } else { high = middle }
        }
        if low < buckets.count, buckets[low].index == index {
            buckets[low].count += amount
        } else {
            buckets.insert((index, amount), at: low)
        }
    }

    public mutating func merge(_ other: LogHistogram) {
        count += other.count
        zeroCount += other.zeroCount
        guard !buckets.isEmpty else {
            buckets = other.buckets
            return
        }
        var merged: [(index: Int32, count: UInt64)] = []
        merged.reserveCapacity(buckets.count + other.buckets.count)
        var left = 0
        var right = 0
        while left < buckets.count || right < other.buckets.count {
            if right == other.buckets.count
                || (left < buckets.count && buckets[left].index < other.buckets[right].index)
            {
                merged.append(buckets[left])
                left += 1
            } else if left == buckets.count || other.buckets[right].index < buckets[left].index {
                merged.append(other.buckets[right])
                right += 1
            } else {
                merged.append((buckets[left].index, buckets[left].count + other.buckets[right].count))
                left += 1
                right += 1
            }
        }
        buckets = merged
    }

    public static func == (lhs: LogHistogram, rhs: LogHistogram) -> Bool {
        lhs.count == rhs.count && lhs.zeroCount == rhs.zeroCount && lhs.buckets.elementsEqual(rhs.buckets) { $0 == $1 }
    }

    /// The nearest-rank quantile: the value of rank ⌈q·n⌉, within ``relativeAccuracy`` of the
    /// value of that rank among those recorded. `nil` when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen = zeroCount
        if seen >= rank { return 0 }
        for bucket in buckets {
            seen += bucket.count
            if seen >= rank { return Self.value(of: bucket.index) }
        }
        return buckets.last.map { Self.value(of: $0.index) }
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
        for bucket in buckets {
            let delta = Int64(bucket.index) - previous
            Self.appendVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), to: &bytes)
            Self.appendVarint(bucket.count, to: &bytes)
            previous = Int64(bucket.index)
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
        buckets.reserveCapacity(Int(min(bucketCount, 4096)))
        for _ in 0..<bucketCount {
            guard let zigzag = Self.readVarint(bytes, &position), let bucket = Self.readVarint(bytes, &position) else {
                return nil
            }
            previous += Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            guard let index = Int32(exactly: previous), buckets.last.map({ $0.index < index }) ?? true else {
                return nil
            }
            buckets.append((index, bucket))
            count += bucket
        }
        guard position == bytes.count else { return nil }
    }

    /// Adds an encoded histogram's counts into `dense` without building a histogram: the fast path
    /// for merging many stored rows.
    static func add(encoded bytes: UnsafeRawBufferPointer, into dense: inout DenseHistogram) {
        guard bytes.first == 1 else { return }
        var position = 1
        guard let zeros = readVarint(bytes, &position), let bucketCount = readVarint(bytes, &position) else { return }
        dense.zeroCount += zeros
        dense.count += zeros
        var previous: Int64 = 0
        for _ in 0..<bucketCount {
            guard let zigzag = readVarint(bytes, &position), let bucket = readVarint(bytes, &position) else { return }
            previous += Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            dense.add(Int32(truncatingIfNeeded: previous), bucket)
        }
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func readVarint(_ bytes: some RandomAccessCollection<UInt8>, _ position: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[bytes.index(bytes.startIndex, offsetBy: position)]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }
}

/// Histogram counts in a flat array over the range of indexes latencies take (1 µs to ~10⁹ ms),
/// for adding up many stored histograms without allocating per row.
struct DenseHistogram {
    static let lowest: Int32 = -400
    static let highest: Int32 = 1100
    var counts = [UInt64](repeating: 0, count: Int(highest - lowest + 1))
    var zeroCount: UInt64 = 0
    var count: UInt64 = 0
    /// Indexes outside the flat range, rare enough for a dictionary.
    var outliers: [Int32: UInt64] = [:]

    mutating func add(_ index: Int32, _ amount: UInt64) {
        count += amount
        if index >= Self.lowest, index <= Self.highest {
            counts[Int(index - Self.lowest)] += amount
        } else {
            outliers[index, default: 0] += amount
        }
    }

    var histogram: LogHistogram {
        var histogram = LogHistogram()
        histogram.setDense(self)
        return histogram
    }
}

extension LogHistogram {
    fileprivate mutating func setDense(_ dense: DenseHistogram) {
        var result: [(index: Int32, count: UInt64)] = dense.outliers.filter { $0.key < DenseHistogram.lowest }.sorted {
            $0.key < $1.key
        }
        .map { ($0.key, $0.value) }
        for (offset, value) in dense.counts.enumerated() where value > 0 {
            result.append((Int32(offset) + DenseHistogram.lowest, value))
        }
        result += dense.outliers.filter { $0.key > DenseHistogram.highest }.sorted { $0.key < $1.key }.map {
            ($0.key, $0.value)
        }
        buckets = result
        zeroCount = dense.zeroCount
        count = dense.count
    }
}
