/*
 * ui-layout.h -- where each part of a console screen goes (pure arithmetic).
 *
 * Given the terminal's size, these functions return rectangles; the
 * screens draw into them. Rectangles never overlap and always lie inside
 * the screen. A part that is not shown has h == w == 0 (and y == x == 0);
 * a shown part has h >= 1 and w >= 1. Panels (boxes with a frame and at
 * least one line of content) are at least LAYOUT_PANEL_MIN_H rows by
 * LAYOUT_PANEL_MIN_W columns, or hidden: never drawn broken.
 */
#ifndef FL_UI_LAYOUT_H
#define FL_UI_LAYOUT_H

struct rect {
	int y, x, h, w;
};

/* Below this size a screen is a single message. */
#define LAYOUT_MIN_LINES 10
#define LAYOUT_MIN_COLS  40
#define LAYOUT_TOO_SMALL "terminal too small (need 40x10)"

#define LAYOUT_PANEL_MIN_H 3 /* top border, one line, bottom border */
#define LAYOUT_PANEL_MIN_W 16

/* The Supervise screen's right-hand panels, in their top-to-bottom order. */
enum layout_panel {
	PANEL_TRIAGE,
	PANEL_KNOWLEDGE,
	PANEL_SIGNALS, /* escalation signals */
	PANEL_GUARDRAILS,
	PANEL_COUNT
};

/*
 * The Supervise screen:
 *
 *   row 0          title bar, full width
 *   rows 1..       queue list (left) | chat pane | panel column (right)
 *   row LINES-2    input line, full width (only when input is set)
 *   row LINES-1    footer with keys, full width
 *
 * The queue is 25% of the width, clamped to [22, 40] columns; the panel
 * column 33%, clamped to [30, 56]; the chat pane takes the rest. Panels
 * stack in the column, each at least LAYOUT_PANEL_MIN_H rows, with the
 * rows beyond that shared by weight (knowledge 2, the others 1, leftover
 * rows to knowledge). When the column has no room for all four, panels
 * are dropped in this order: guardrails, triage, knowledge (signals go
 * last: escalation is what a supervisor must not miss).
 *
 * Below 100 columns the panels move under the chat pane, which keeps the
 * upper half of its column (and the odd row; the whole column when that
 * would leave it fewer than five rows): knowledge on the left half
 * of the lower half, triage, signals and guardrails stacked on the right
 * half (dropped in the order guardrails, triage). Below 60 columns the
 * queue collapses to a one-row strip under the title (queue_strip) and
 * the chat pane takes the full width. Below LAYOUT_MIN_COLS x
 * LAYOUT_MIN_LINES only message is set: the whole screen, to show
 * LAYOUT_TOO_SMALL in.
 */
struct supervise_layout {
	int too_small;
	int queue_strip;  /* the queue is one row high */
	int panels_below; /* the panels sit under the chat pane */
	struct rect message;
	struct rect title, footer, input, queue, chat;
	struct rect panel[PANEL_COUNT];
};
void layout_supervise(int lines, int cols, int input, struct supervise_layout *out);

/*
 * Full-screen readers (Handoffs, Help): title bar (row 0), footer (last
 * row), and between them the body. With with_list, a list shares the
 * space with the body: at 100 columns and more, on the left (30% of the
 * width, clamped to [24, 48]); below, on top (a third of the rows,
 * clamped to [3, 12]). Below the minimum size only message is set.
 */
struct reader_layout {
	int too_small;
	struct rect message;
	struct rect title, footer, list, body;
};
void layout_reader(int lines, int cols, int with_list, struct reader_layout *out);

#endif
