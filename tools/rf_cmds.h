/* radarflow CLI: the subcommands that live in their own files of tools/.
 * Each takes argv[0] = the subcommand's name and returns the exit code. */
#ifndef RF_CMDS_H
#define RF_CMDS_H

#include "../host/rf_common.h"

/* Exit codes of every command (tools/cli.c): 0 success, 2 bad usage or bad
 * input (RF_EINVAL, RF_EFORMAT, RF_ERANGE), 3 compute device failure
 * (RF_EDEVICE), 130 interrupted (RF_EINTR), 1 anything else. */
int rf_cli_exit_code(int status);
/* Prints the failure once ("radarflow: <message>") and returns its exit code. */
int rf_cli_fail(int status);
/* Prints "radarflow: CMD: WHAT (see 'radarflow CMD --help')"; returns 2. */
int rf_cli_usage(const char *cmd, const char *what);
/* After getopt_long returned '?' (opterr is 0 in every command): one line
 * naming the option - a known one without its value, an unrecognized one
 * with the nearest known name ("did you mean"), or an ambiguous prefix with
 * its candidates. shorts: the short-option string given to getopt_long.
 * Returns 2. */
struct option;
int rf_cli_bad_option(const char *cmd, char **argv, const char *shorts, const struct option *opts);
/* The same message set as the thread's error (rf__err), not printed;
 * returns RF_EINVAL. */
int rf_cli_option_error(const char *cmd, char **argv, const char *shorts, const struct option *opts);

int rf_track_cmd(int argc, char **argv);        /* tools/track_cmd.c */
int rf_batch_cmd(int argc, char **argv);        /* tools/batch_cmd.c */
int rf_batch_merge_cmd(int argc, char **argv);
int rf_batch_worker_cmd(int argc, char **argv);
int rf_quicklook_cmd(int argc, char **argv);    /* tools/quicklook_cmd.c */
int rf_import_cmd(int argc, char **argv);       /* tools/import_cmd.c */
int rf_inspect_cmd(int argc, char **argv);      /* tools/inspect_cmd.c */

#endif
