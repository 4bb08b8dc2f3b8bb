import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import Testing

@testable import SwitchboardConsole

/// The console's own number formatting writes what `String(format:)` writes.
@Suite struct FormatTests {
    @Test func fixedDecimalsMatchFoundationsFormatter() {
        // A seeded sweep over the magnitudes the panes show, both signs; values within a hair of
        // a half are left out (the scaling can round them onto it).
        var generator = SeededRandom(seed: 42)
        for _ in 0..<20_000 {
            let magnitude = pow(10, Double.random(in: -7...9, using: &generator))
            let value = Bool.random(using: &generator) ? magnitude : -magnitude
            for decimals in 0...6 {
                let scaled = abs(value) * pow(10, Double(decimals))
                guard abs(scaled - scaled.rounded(.down) - 0.5) > 1e-6 else { continue }
                var expected = String(format: "%.\(decimals)f", value)
                // printf's "-0.00" for a small negative is written "0.00".
                if expected.allSatisfy({ "-0.".contains($0) }) { expected.removeAll { $0 == "-" } }
                #expect(Format.fixed(value, decimals) == expected, "\(value)")
            }
        }
        #expect(Format.fixed(0, 2) == "0.00")
        #expect(Format.fixed(-0.001, 1) == "0.0")
        #expect(Format.fixed(-0.06, 1) == "-0.1")
        #expect(Format.fixed(.infinity, 1) == String(format: "%.1f", Double.infinity))
        #expect(Format.fixed(3e20, 2) == String(format: "%.2f", 3e20))
    }

    @Test func figuresReadAsBefore() {
        #expect(Format.dollars(12_840_000_000) == "$12.84")
        #expect(Format.dollars(930_000_000) == "$0.930")
        #expect(Format.dollars(4_100_000) == "$0.0041")
        #expect(Format.dollars(250_000_000_000) == "$250")
        #expect(Format.milliseconds(0.5) == "0.50ms")
        #expect(Format.milliseconds(2_410) == "2.41s")
        #expect(Format.milliseconds(65_000) == "1m05s")
        #expect(Format.percent(384, of: 1_000) == "38.4%")
        #expect(Format.compact(4_812) == "4.8k")
        #expect(Format.count(1_250_000) == "1.2M")
        #expect(Format.clock(Date(timeIntervalSince1970: 43_471)) == "12:04:31")
    }

    @Test func asciiWidthsAreCountedAsTheirCharactersWouldBe() {
        let ascii = String((0..<128).map { Character(UnicodeScalar(UInt8($0))) })
        let byCharacter = ascii.reduce(0) { $0 + CellBuffer.columns(of: $1) }
        #expect(CellBuffer.columns(of: ascii) == byCharacter)
        #expect(CellBuffer.columns(of: ascii) == 95)
        #expect(CellBuffer.columns(of: "p99 \u{1B}[0m\r\n") == 7)
        #expect(CellBuffer.columns(of: "user 漢字 ok") == 12, "wide characters take two columns")
        #expect(CellBuffer.columns(of: "gauge ▕██░░▏") == 12)
    }
}
