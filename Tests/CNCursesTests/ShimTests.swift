import CNCurses
import Testing

/// The shim exposes the curses macros Swift cannot see, with the values curses itself computes.
struct ShimTests {
    @Test(arguments: [1, 7, 42, 255])
    func colorPairsRoundTripThroughTheirAttributeBits(pair: Int32) {
        let attributes = sb_color_pair(pair)
        #expect(attributes != 0)
        #expect(sb_pair_number(attributes) == pair)
        #expect(attributes & sb_attr_bold() == 0)
    }

    @Test func attributesAreDistinctBits() {
        let all = [sb_attr_bold(), sb_attr_dim(), sb_attr_reverse(), sb_attr_underline()]
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { $0.nonzeroBitCount == 1 })
        #expect(sb_attr_normal() == 0)
    }

    @Test func theResizeKeyIsCursesOwn() {
        #expect(sb_key_resize() == KEY_RESIZE)
    }
}
