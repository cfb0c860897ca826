/* A shared object without the entry point. */
int not_a_plugin(void) { return 42; }
