/* radarflow CLI: the subcommands that live in their own files of tools/.
 * Each takes argv[0] = the subcommand's name and returns the exit code. */
#ifndef RF_CMDS_H
#define RF_CMDS_H

int rf_track_cmd(int argc, char **argv);        /* tools/track_cmd.c */
int rf_batch_cmd(int argc, char **argv);        /* tools/batch_cmd.c */
int rf_batch_merge_cmd(int argc, char **argv);
int rf_batch_worker_cmd(int argc, char **argv);
int rf_quicklook_cmd(int argc, char **argv);    /* tools/quicklook_cmd.c */
int rf_import_cmd(int argc, char **argv);       /* tools/import_cmd.c */
int rf_inspect_cmd(int argc, char **argv);      /* tools/inspect_cmd.c */

#endif
