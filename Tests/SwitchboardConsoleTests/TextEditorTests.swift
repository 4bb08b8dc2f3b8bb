import Testing

@testable import SwitchboardConsole

/// The playground's editor as a value, and drawn on the cell buffer.
struct TextEditorTests {
    @Test func typingDeletingAndJoiningLines() {
        var editor = TextEditor()
        editor.type("Hello")
        editor.type("\n")
        editor.type("world")
        #expect(editor.text == "Hello\nworld")
        #expect(editor.cursor == .init(line: 1, column: 5))
        editor.move(.lineStart, width: 80)
        editor.backspace()
        #expect(editor.text == "Helloworld" && editor.cursor == .init(line: 0, column: 5))
        editor.deleteForward()
        #expect(editor.text == "Helloorld")
        editor.move(.documentEnd, width: 80)
        editor.deleteForward()
        #expect(editor.text == "Helloorld", "nothing after the end")
        editor.move(.documentStart, width: 80)
        editor.backspace()
        #expect(editor.text == "Helloorld", "nothing before the start")
    }

    @Test func rowsWrapAtTheLastSpaceThatFitsAndNeverSplitAWideCharacter() {
        let editor = TextEditor(text: "The refund window is thirty days\n\nabcdefghij")
        #expect(
            editor.rows(width: 10).map(\.text) == [
                "The ", "refund ", "window is ", "thirty ", "days", "", "abcdefghij",
            ]
        )
        #expect(editor.rows(width: 4).suffix(3).map(\.text) == ["abcd", "efgh", "ij"])
        // Each CJK character takes two columns: four fit in nine columns, the fifth goes down.
        let wide = TextEditor(text: "返金期間は三十日です")
        #expect(wide.rows(width: 9).map(\.text) == ["返金期間", "は三十日", "です"])
        #expect(wide.rows(width: 9).allSatisfy { CellBuffer.columns(of: $0.text) <= 9 })
        // A family emoji is one grapheme of two columns.
        let emoji = TextEditor(text: "ok 👨‍👩‍👧 done")
        #expect(emoji.lines[0].count == 9)
        #expect(emoji.rows(width: 5).map(\.text) == ["ok ", "👨‍👩‍👧 ", "done"])
    }

    @Test func upAndDownMoveByScreenRowAndKeepTheColumnTheyAimedFor() {
        var editor = TextEditor(text: "alpha beta gamma\nxy\nlonger line here")
        editor.move(.documentStart, width: 11)
        editor.move(.wordRight, width: 11)
        editor.move(.wordRight, width: 11)  // before "gamma", the second screen row
        #expect(editor.cursor == .init(line: 0, column: 11))
        #expect(editor.cursorPlace(width: 11) == (row: 1, column: 0))
        editor.move(.up, width: 11)
        #expect(editor.cursor == .init(line: 0, column: 0))
        editor.move(.lineEnd, width: 11)
        editor.move(.left, width: 11)
        editor.move(.left, width: 11)  // column 14 of line 0: row 1, column 3
        editor.move(.down, width: 11)
        #expect(editor.cursor == .init(line: 1, column: 2), "xy is shorter: its end")
        editor.move(.down, width: 11)
        #expect(editor.cursor == .init(line: 2, column: 3), "the aimed-for column again")
        editor.move(.down, width: 11)
        editor.move(.down, width: 11)
        #expect(editor.cursor == .init(line: 2, column: 16), "past the last row: the end")
    }

    @Test func wideCharactersMoveTheCursorTwoColumns() {
        var editor = TextEditor(text: "日本語")
        #expect(editor.cursorPlace(width: 20) == (row: 0, column: 6))
        editor.move(.left, width: 20)
        #expect(editor.cursorPlace(width: 20) == (row: 0, column: 4))
        editor.type("x")
        #expect(editor.text == "日本x語")
    }

    @Test func wordJumpsAndDeletingAWord() {
        var editor = TextEditor(text: "refund_policy: 30 days, annual plans")
        editor.move(.lineStart, width: 80)
        editor.move(.wordRight, width: 80)
        #expect(editor.cursor.column == 15, "past refund_policy and its punctuation")
        editor.move(.wordRight, width: 80)
        editor.move(.wordRight, width: 80)
        #expect(editor.cursor.column == 24)
        editor.move(.wordLeft, width: 80)
        #expect(editor.cursor.column == 18)
        editor.move(.lineEnd, width: 80)
        editor.deleteWordBackward()
        #expect(editor.text == "refund_policy: 30 days, annual ")
        editor.undo()
        #expect(editor.text == "refund_policy: 30 days, annual plans")
    }

    @Test func aPasteIsOneStepAndTypingUndoesWordByWord() {
        var editor = TextEditor()
        for character in "How long" { editor.type(String(character)) }
        editor.paste("is the\r\nrefund\twindow?\u{7}")
        #expect(editor.text == "How longis the\nrefund    window?")
        editor.undo()
        #expect(editor.text == "How long")
        editor.undo()
        #expect(editor.text == "How ", "the word typed after the space is one step")
        editor.undo()
        #expect(editor.text == "")
        editor.redo()
        editor.redo()
        #expect(editor.text == "How long")
        editor.type("!")
        editor.redo()
        #expect(editor.text == "How long!", "a new edit clears what could be redone")
    }

    @Test func drawnOnTheCellBufferWithTheCursorScrolledIntoView() {
        var editor = TextEditor(text: "one\ntwo\nthree\nfour\nfive")
        var buffer = CellBuffer(width: 12, height: 3)
        let first = buffer.draw(editor, in: Rect(x: 1, y: 0, width: 10, height: 3), focused: true)
        #expect(first == 2, "the cursor is on the last line: the view scrolls to it")
        #expect(buffer.text == " three\n four\n five")
        #expect(buffer[5, 2].role == .selection, "the cursor after 'five'")
        editor.move(.documentStart, width: 9)
        buffer = CellBuffer(width: 12, height: 3)
        #expect(buffer.draw(editor, in: Rect(x: 1, y: 0, width: 10, height: 3), scroll: first, focused: true) == 0)
        #expect(buffer.text == " one\n two\n three")
        #expect(buffer[1, 0] == Cell(text: "o", role: .selection))
    }
}
