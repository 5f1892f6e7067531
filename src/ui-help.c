/* ui-help.c -- the help screen: every key. */
#include "config.h"

#include <curses.h>

#include "console.h"
#include "ui-draw.h"
#include "ui-theme.h"

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

static const struct {
	const char *keys, *what;
} help[] = {
    {NULL, "Supervise"},
    {"Up/Down, j/k", "select a conversation (waiting ones first, most urgent on top)"},
    {"Home/End, g/G", "first / last conversation"},
    {"PgUp/PgDn", "scroll the chat"},
    {"Enter, t", "take the conversation over (the handoff packet is shown first)"},
    {"p", "show the handoff packet"},
    {"b", "hand the conversation back to the AI"},
    {"r", "close it: then r resolved, a abandoned"},
    {"h, F2", "the Handoffs screen"},
    {"v, F3", "the Review screen: mark what the AI got wrong in handoffs"},
    {"m, F4", "the Metrics screen"},
    {"s, F5", "the Replay screen: run a shadow replay of a ticket file"},
    {"?, F1", "this help"},
    {"q, F10", "quit (everything is in the store; restart to continue)"},
    {NULL, "Replying (after a takeover)"},
    {"Enter", "send the reply through the guardrails; a reply with warnings is held"},
    {"", "back: fix it, or press Enter again to send it anyway (recorded)"},
    {"Esc", "leave the reply line (Enter goes back to it)"},
    {"Ctrl-A/E/K, Up", "readline editing and history (~/.inputrc is honoured)"},
    {NULL, "Handoffs"},
    {"Up/Down, Enter", "select and read a packet; q goes back"},
    {NULL, "Review (F3)"},
    {"Up/Down, Enter", "select a packet ([x]: reviewed) and review it"},
    {"c/C, e/E", "the right category / escalation reason (last: should not escalate)"},
    {"m, d, n", "add missing information, drop the last, write a note"},
    {"s", "save the review (unchanged: the AI got it right); q drops it"},
    {NULL, "Metrics (F4) and Replay (F5)"},
    {"r", "Metrics: recompute now (it also does every 5 seconds)"},
    {"Enter, f", "Replay: run the ticket file shown / choose another"},
    {"c", "Replay: cancel the run"},
    {"Up/Down, PgUp/PgDn", "scroll the metrics or the report; q goes back"},
    {NULL, "Signs"},
    {"WAIT HUMN AI DONE", "waiting for a human, human-owned, AI handling, resolved"},
    {"*", "the AI is answering; crit/high/norm/low: urgency"},
    {"STALE", "a knowledge fact older than the policy allows"},
    {"!", "an escalation signal that fired"},
};

void
ui_help_draw(struct console *con)
{
	th = &con->theme;
	ui_clear(stdscr, (struct rect){0, 0, 1, COLS}, ATTR(THEME_TITLE));
	ui_put(stdscr, 0, 0, COLS, " frontline  help (any key to go back)", ATTR(THEME_TITLE));
	int y = 2;
	for (size_t i = 0; i < nitems(help) && y < LINES; i++, y++) {
		if (help[i].keys == NULL) {
			if (i > 0)
				y++;
			ui_put(stdscr, y, 2, COLS - 4, help[i].what, A_BOLD);
			continue;
		}
		ui_put(stdscr, y, 4, 20, help[i].keys, ATTR(THEME_FOOTER_KEY));
		if (COLS > 26)
			ui_put(stdscr, y, 26, COLS - 28, help[i].what, A_NORMAL);
	}
}
