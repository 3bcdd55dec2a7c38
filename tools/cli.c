/* radarflow CLI: the one mapping from status to exit code, used by every
 * command, and the failure and usage messages. */
#include "rf_cmds.h"

#include <stdio.h>

int rf_cli_exit_code(int st) {
  switch (st) {
  case RF_OK: return 0;
  case RF_EINTR: return 130;
  case RF_EINVAL:
  case RF_EFORMAT:
  case RF_ERANGE: return 2;
  case RF_EDEVICE: return 3;
  default: return 1;
  }
}

int rf_cli_fail(int st) {
  const char *msg = rf_errmsg();
  fprintf(stderr, "radarflow: %s\n", msg[0] ? msg : rf_strerror(st));
  return rf_cli_exit_code(st);
}

int rf_cli_usage(const char *cmd, const char *what) {
  fprintf(stderr, "radarflow %s: %s\nTry 'radarflow %s --help'.\n", cmd, what, cmd);
  return 2;
}
