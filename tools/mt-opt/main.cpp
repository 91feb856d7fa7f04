// Placeholder until the tool is written.
#include <cstdio>
int main() { std::puts("mt-opt: not yet implemented"); return 1; }
