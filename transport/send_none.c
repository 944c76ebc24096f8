/* Built instead of send_curl.c without libcurl (MEMGAUGE_WITH_CURL=OFF):
 * the app must provide a send hook. */
#include "transport.h"

memgauge__tr_send_fn memgauge__tr_curl_sender(void)
{
    return (memgauge__tr_send_fn)0;
}
