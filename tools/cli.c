/* radarflow CLI: the one mapping from status to exit code, used by every
 * command, and the failure and usage messages - one line each, GNU style
 * ("radarflow: ..."), with "did you mean" for mistyped options. */
#include "rf_cmds.h"
#include "../host/rf_suggest.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
  if (rf__log_before) rf__log_before();
  fprintf(stderr, "radarflow: %s\n", msg[0] ? msg : rf_strerror(st));
  return rf_cli_exit_code(st);
}

int rf_cli_usage(const char *cmd, const char *what) {
  if (rf__log_before) rf__log_before();
  fprintf(stderr, "radarflow: %s: %s (see 'radarflow %s --help')\n", cmd, what, cmd);
  return 2;
}

/* The usage message as the thread's error: RF_EINVAL. */
static int rf__usage_err(const char *cmd, const char *what) {
  return rf__err(RF_EINVAL, "%s: %s (see 'radarflow %s --help')", cmd, what, cmd);
}

/* The long option with value val that takes an argument, or NULL. */
static const struct option *rf__by_val(const struct option *opts, int val) {
  for (; opts && opts->name; opts++)
    if (opts->val == val) return opts;
  return NULL;
}

int rf_cli_option_error(const char *cmd, char **argv, const char *shorts, const struct option *opts) {
  const char *typed = optind > 0 ? argv[optind - 1] : "";
  char name[128], msg[400];
  if (!typed) typed = "";
  /* A known option without its value: getopt names it in optopt. */
  const char *s = optopt > 0 && optopt < 256 ? strchr(shorts, optopt) : NULL;
  const struct option *lo = optopt > 0 ? rf__by_val(opts, optopt) : NULL;
  if ((s && s[1] == ':') || (lo && lo->has_arg == required_argument)) {
    if (!strncmp(typed, "--", 2)) snprintf(name, sizeof name, "%.*s", (int)strcspn(typed, "="), typed);
    else snprintf(name, sizeof name, "-%c", optopt);
    snprintf(msg, sizeof msg, "option '%s' needs a value", name);
    return rf__usage_err(cmd, msg);
  }
  if (optopt > 0 && optopt < 256) {
    snprintf(msg, sizeof msg, "unrecognized option '-%c'", optopt);
    return rf__usage_err(cmd, msg);
  }
  /* An unknown or ambiguous long option: "--name" or "--name=value". */
  snprintf(name, sizeof name, "%.*s", (int)strcspn(typed, "="), typed);
  const char *word = name[0] == '-' && name[1] == '-' ? name + 2 : name;
  const char *cands[64];
  size_t n = 0, matches = 0;
  char amb[256] = "";
  for (const struct option *o = opts; o && o->name && n < 64; o++) {
    cands[n++] = o->name;
    if (*word && !strncmp(o->name, word, strlen(word))) {
      size_t l = strlen(amb);
      snprintf(amb + l, sizeof amb - l, "%s--%s", matches++ ? ", " : "", o->name);
    }
  }
  if (matches > 1) {
    snprintf(msg, sizeof msg, "option '%s' is ambiguous: %s", name, amb);
    return rf__usage_err(cmd, msg);
  }
  const char *near = rf_suggest(word, cands, n);
  if (near) snprintf(msg, sizeof msg, "unrecognized option '%s'; did you mean '--%s'?", name, near);
  else snprintf(msg, sizeof msg, "unrecognized option '%s'", name);
  return rf__usage_err(cmd, msg);
}

int rf_cli_bad_option(const char *cmd, char **argv, const char *shorts, const struct option *opts) {
  return rf_cli_fail(rf_cli_option_error(cmd, argv, shorts, opts));
}
