/* Compiled by the layer_probe_* targets of CMakeLists.txt for
 * scripts/layer-check.sh: includes one header with the include directories
 * of one layer, to prove which headers that layer can and cannot see. */
#include MEMGAUGE_PROBE_HEADER

int memgauge__layer_probe(void);
int memgauge__layer_probe(void)
{
    return 0;
}
