/* ui-screens.c -- the console's screens, one row each: a new screen is a new file and a row. */
#include "config.h"

#include <stddef.h>

#include "console.h"

extern const struct console_screen ui_supervise_screen;
extern const struct console_screen ui_help_screen;
extern const struct console_screen ui_handoffs_screen;
extern const struct console_screen ui_review_screen;
extern const struct console_screen ui_metrics_screen;
extern const struct console_screen ui_replay_screen;

/* In the order the help lists them; the first is home (q goes back to it). */
const struct console_screen *const console_screens[] = {
    &ui_supervise_screen,
    &ui_help_screen,
    &ui_handoffs_screen,
    &ui_review_screen,
    &ui_metrics_screen,
    &ui_replay_screen,
    NULL,
};
