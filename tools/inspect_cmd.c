/* placeholder replaced below */
int rf_inspect_cmd(int argc, char **argv) { (void)argc; (void)argv; return 1; }
