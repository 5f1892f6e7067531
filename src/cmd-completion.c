/* cmd-completion.c -- frontline completion bash: shell completion made from the command table. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"

/*
 * The script is a table and a walker. The table, _frontline_table, is
 * printed from the command table every time, so a command, verb, option
 * or choice added there completes without anyone editing the script; the
 * walker, _frontline, is the same text for every table.
 */
static const char walker[] =
    "# _frontline: finds the command, its verb and the option being given in\n"
    "# the words before the cursor, then offers what the table says comes next.\n"
    "_frontline()\n"
    "{\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= entry=frontline cmd_at=0 i=1 w opt kind\n"
    "\tlocal ended=\n"
    "\tCOMPREPLY=()\n"
    "\t[ \"$COMP_CWORD\" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "\twhile [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
    "\t\tw=${COMP_WORDS[i]}\n"
    "\t\tif [ -z \"$ended\" ] && [ \"$w\" = -- ]; then\n"
    "\t\t\tended=1\n"
    "\t\telif [ -z \"$ended\" ] && [ \"${w#-}\" != \"$w\" ] && [ \"$w\" != - ]; then\n"
    "\t\t\topt=${w%%=*}\n"
    "\t\t\tif [ \"$entry\" = frontline ]; then\n"
    "\t\t\t\tcase \" $(_frontline_table globals) \" in\n"
    "\t\t\t\t*\" $opt \"*) ;;\n"
    "\t\t\t\t*) entry=console ;; # the default command's option\n"
    "\t\t\t\tesac\n"
    "\t\t\tfi\n"
    "\t\t\tif [ \"${COMP_WORDS[i+1]}\" = = ] && [ $((i + 1)) -lt \"$COMP_CWORD\" ]; then\n"
    "\t\t\t\ti=$((i + 2)) # --opt=value, split at the =\n"
    "\t\t\telif [ \"$w\" = \"$opt\" ] && [ -n \"$(_frontline_table value \"$entry\" \"$opt\")\" ]; "
    "then\n"
    "\t\t\t\ti=$((i + 1)) # its value\n"
    "\t\t\tfi\n"
    "\t\telif [ \"$entry\" = frontline ]; then\n"
    "\t\t\tentry=$w\n"
    "\t\t\tcmd_at=$i\n"
    "\t\telif [ \"$cmd_at\" = $((i - 1)) ]; then\n"
    "\t\t\tcase \" $(_frontline_table verbs \"$entry\") \" in\n"
    "\t\t\t*\" $w \"*) entry=\"$entry $w\" ;;\n"
    "\t\t\tesac\n"
    "\t\tfi\n"
    "\t\ti=$((i + 1))\n"
    "\tdone\n"
    "\t# The value of an option: --opt VALUE, --opt=VALUE (bash splits at =).\n"
    "\topt=\n"
    "\tif [ \"$cur\" = = ]; then\n"
    "\t\topt=$prev\n"
    "\t\tcur=\n"
    "\telif [ \"$prev\" = = ] && [ \"$COMP_CWORD\" -gt 1 ]; then\n"
    "\t\topt=${COMP_WORDS[COMP_CWORD-2]}\n"
    "\telif [ -z \"$ended\" ] && [ \"${prev#-}\" != \"$prev\" ] && [ \"$prev\" = \"${prev%%=*}\" "
    "]; then\n"
    "\t\topt=$prev\n"
    "\tfi\n"
    "\tif [ -n \"$opt\" ]; then\n"
    "\t\tkind=$(_frontline_table value \"$entry\" \"$opt\")\n"
    "\t\t[ -z \"$kind\" ] && [ \"$entry\" = frontline ] && kind=$(_frontline_table value console "
    "\"$opt\")\n"
    "\t\tif [ -n \"$kind\" ]; then\n"
    "\t\t\t_frontline_values \"$kind\" \"$cur\"\n"
    "\t\t\treturn 0\n"
    "\t\tfi\n"
    "\tfi\n"
    "\tif [ -z \"$ended\" ] && [ \"${cur#-}\" != \"$cur\" ]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$(_frontline_table options \"$entry\")\" -- \"$cur\"))\n"
    "\telif [ \"$entry\" = frontline ]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$(_frontline_table commands)\" -- \"$cur\"))\n"
    "\telif [ \"$cmd_at\" = $((COMP_CWORD - 1)) ] && [ -n \"$(_frontline_table verbs \"$entry\")\" "
    "]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$(_frontline_table verbs \"$entry\")\" -- \"$cur\"))\n"
    "\telse\n"
    "\t\t_frontline_values \"$(_frontline_table operand \"$entry\")\" \"$cur\"\n"
    "\tfi\n"
    "\treturn 0\n"
    "}\n"
    "\n"
    "# _frontline_values KIND CUR: file and directory names, or the choices.\n"
    "_frontline_values()\n"
    "{\n"
    "\tlocal IFS=$'\\n'\n"
    "\tcase $1 in\n"
    "\tfile)\n"
    "\t\tcompopt -o filenames 2>/dev/null\n"
    "\t\tCOMPREPLY=($(compgen -f -- \"$2\")) ;;\n"
    "\tdir)\n"
    "\t\tcompopt -o filenames 2>/dev/null\n"
    "\t\tCOMPREPLY=($(compgen -d -- \"$2\")) ;;\n"
    "\tchoice\\ *)\n"
    "\t\tIFS=$' \\t\\n'\n"
    "\t\tCOMPREPLY=($(compgen -W \"${1#choice }\" -- \"$2\")) ;;\n"
    "\tesac\n"
    "}\n"
    "\n"
    "complete -F _frontline frontline\n";

/* A word of the table: it goes between single quotes, so it holds none. */
static int
word_ok(const char *w)
{
	if (strchr(w, '\'') == NULL)
		return 0;
	fl_warnx("completion: %s holds a quote", w);
	return -1;
}

/* "file", "dir", "text", "choice A B", or "" for a flag: how a value completes. */
static void
value_kind(const struct cmd_option *o, struct buf *b)
{
	static const char *const kinds[] = {
	    [CMD_FLAG] = "",    [CMD_TEXT] = "text",   [CMD_FILE] = "file",     [CMD_DIR] = "dir",
	    [CMD_INT] = "text", [CMD_NUMBER] = "text", [CMD_CHOICE] = "choice",
	};
	buf_adds(b, kinds[o->value]);
	for (size_t i = 0; o->value == CMD_CHOICE && o->choices[i] != NULL; i++)
		buf_printf(b, " %s", o->choices[i]);
}

static int
declared(const struct cmd_option *o, const char *name)
{
	for (; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return 1;
	return 0;
}

/* The case arms of one entry's options: the list, and how each one's value completes. */
static int
print_options(const char *key, const struct cmd_option *o, const struct cmd_option *more)
{
	struct buf b;
	char sp[64];
	int rc = 0;
	buf_init(&b, 0);
	printf("\t'options %s') echo '", key);
	for (const struct cmd_option *x = o; x != NULL && x->name != NULL; x++)
		printf("%s ", cmd_option_name(x, sp));
	for (const struct cmd_option *x = more; x != NULL && x->name != NULL; x++)
		if (!declared(o, x->name))
			printf("%s ", cmd_option_name(x, sp));
	printf("--help' ;;\n");
	for (const struct cmd_option *x = o; x != NULL && x->name != NULL; x++) {
		if (x->value == CMD_FLAG)
			continue;
		buf_reset(&b);
		value_kind(x, &b);
		rc |= word_ok(b.data);
		printf("\t'value %s %s'", key, cmd_option_name(x, sp));
		if (x->key != 0)
			printf(" | 'value %s -%c'", key, x->key);
		printf(") echo '%s' ;;\n", b.data);
	}
	buf_free(&b);
	return rc;
}

/* Whether an entry before t[i] has t[i]'s name and a verb. */
static int
verbs_done(const struct cmd_entry *const *t, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (t[j]->verb != NULL && strcmp(t[j]->name, t[i]->name) == 0)
			return 1;
	return 0;
}

static int
cmd_completion_bash(struct ctx *ctx, const struct cmd_args *a)
{
	size_t n;
	const struct cmd_entry *const *t = cmd_entries(&n);
	int rc = 0;
	printf("# bash completion for frontline(1), made by 'frontline completion bash' from\n"
	       "# the command table of frontline %s: make it again rather than edit it.\n\n",
	       PACKAGE_VERSION);
	printf("# _frontline_table WHAT [ENTRY [OPTION]]: commands, verbs CMD, globals,\n"
	       "# options ENTRY, value ENTRY OPTION (file, dir, text, or choice WORD...;\n"
	       "# nothing for a flag), operand ENTRY. ENTRY frontline: before a command.\n"
	       "_frontline_table()\n{\n\tcase \"$*\" in\n\t'commands') echo '");
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(t[i]->name, t[i - 1]->name) != 0)
			printf("%s%s", i ? " " : "", t[i]->name);
	printf("' ;;\n");
	for (size_t i = 0; i < n; i++) {
		if (t[i]->verb == NULL || verbs_done(t, i))
			continue;
		printf("\t'verbs %s') echo '%s", t[i]->name, t[i]->verb);
		for (size_t j = i + 1; j < n; j++)
			if (t[j]->verb != NULL && strcmp(t[j]->name, t[i]->name) == 0)
				printf(" %s", t[j]->verb);
		printf("' ;;\n");
	}
	printf("\t'globals') echo '");
	for (const struct cmd_option *x = cmd_global_options; x->name != NULL; x++) {
		char sp[64];
		printf("%s ", cmd_option_name(x, sp));
		if (x->key != 0)
			printf("-%c ", x->key);
	}
	printf("--help -h' ;;\n");
	rc |= print_options("frontline", cmd_global_options, cmd_console_entry.options);
	for (size_t i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof key, "%s%s%s", t[i]->name, t[i]->verb ? " " : "",
		         t[i]->verb ? t[i]->verb : "");
		rc |= print_options(key, t[i]->options, NULL);
		if (t[i]->operand_value == CMD_FILE)
			printf("\t'operand %s') echo file ;;\n", key);
	}
	printf("\tesac\n}\n\n%s", walker);
	return rc == 0 ? EX_OK : EX_SOFTWARE;
}

const struct cmd_entry cmd_completion_bash_entry = {
    .name = "completion",
    .verb = "bash",
    .summary = "print the bash completion script, made from the command table",
    .exec = cmd_completion_bash,
    .help = "Installed as bash-completion's completions/frontline by make install; by\n"
            "hand: frontline completion bash > ~/.local/share/bash-completion/completions/"
            "frontline\n",
};
