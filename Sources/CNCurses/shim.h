// C shim for ncursesw: the parts of the curses API that are macros, and so invisible to Swift,
// wrapped as static inline functions. Wide-character functions need NCURSES_WIDECHAR.
#ifndef SWITCHBOARD_CNCURSES_SHIM_H
#define SWITCHBOARD_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <ncursesw/curses.h>
#include <wchar.h>

/// COLOR_PAIR(n): the attribute bits that select colour pair n.
static inline attr_t sb_color_pair(int pair) { return (attr_t)COLOR_PAIR(pair); }

/// PAIR_NUMBER(attrs): the colour pair encoded in attribute bits.
static inline int sb_pair_number(attr_t attrs) { return (int)PAIR_NUMBER(attrs); }

static inline attr_t sb_attr_bold(void) { return (attr_t)A_BOLD; }
static inline attr_t sb_attr_dim(void) { return (attr_t)A_DIM; }
static inline attr_t sb_attr_reverse(void) { return (attr_t)A_REVERSE; }
static inline attr_t sb_attr_underline(void) { return (attr_t)A_UNDERLINE; }
static inline attr_t sb_attr_normal(void) { return (attr_t)A_NORMAL; }

/// getmaxy/getmaxx are macros over the WINDOW fields.
static inline int sb_getmaxy(WINDOW *win) { return getmaxy(win); }
static inline int sb_getmaxx(WINDOW *win) { return getmaxx(win); }

/// The global stdscr, as a function (a macro over SP->_stdscr in some builds).
static inline WINDOW *sb_stdscr(void) { return stdscr; }

/// Number of colours the terminal supports (COLORS is a macro in threaded builds).
static inline int sb_colors(void) { return COLORS; }

/// KEY_RESIZE and friends are macros; Swift sees them, but keep the set in one place.
static inline int sb_key_resize(void) { return KEY_RESIZE; }

/// Write one wide character cell with attributes and a colour pair at (y, x).
static inline int sb_put_cell(WINDOW *win, int y, int x, const wchar_t *wch, attr_t attrs, short pair) {
    cchar_t cell;
    if (setcchar(&cell, wch, attrs, pair, NULL) != OK) { return ERR; }
    return mvwadd_wch(win, y, x, &cell);
}

#endif
