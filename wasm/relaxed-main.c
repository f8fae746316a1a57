/* relaxed-main.c - linked into the relaxed-SIMD benchmarks (CMakeLists.txt). Emscripten
 * 3.1.6's runtime starts a program through its export `main`; clang >= 15 names a
 * main(argc, argv) `__main_argc_argv` on wasm (Emscripten's own runtime followed later), so the
 * relaxed build, compiled by clang-19, would load such a program and silently never run it.
 * This gives the runtime its `main`. Programs with main(void), as every tests/test-*.c, do not
 * need it. */
int __main_argc_argv(int argc, char **argv);
int emx_relaxed_main(int argc, char **argv) __asm__("main");
int emx_relaxed_main(int argc, char **argv)
{
    return __main_argc_argv(argc, argv);
}
