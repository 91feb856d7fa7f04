// Placeholder until the tool is written.
#include <cstdio>
int main() { std::puts("mtc: not yet implemented"); return 1; }
