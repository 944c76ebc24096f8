/*
 * The libcurl sender. It drives one transfer through the multi interface
 * and polls at most ABORT_POLL_MS at a time, so that memgauge_stop's abort
 * flag ends a transfer within that time even when the server sends nothing
 * (curl's progress callback can be a second apart on an idle connection).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transport.h"

#define ABORT_POLL_MS 50
#define RESPONSE_MAX (64u * 1024u) /* answers are small JSON; the rest is read and ignored */

typedef struct transfer_s {
    memgauge__tr_response_t *resp;
    size_t body_seen;
} transfer_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    transfer_t *t = ud;
    t->body_seen += size * n < RESPONSE_MAX ? size * n : 0;
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    transfer_t *t = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t start = sizeof name - 1, end = len;
        while (start < end && (p[start] == ' ' || p[start] == '\t'))
            start++;
        while (end > start && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '))
            end--;
        size_t v = end - start < sizeof t->resp->retry_after - 1 ? end - start
                                                                 : sizeof t->resp->retry_after - 1;
        memcpy(t->resp->retry_after, p + start, v);
        t->resp->retry_after[v] = '\0';
    }
    return len;
}

static void curl_send(const memgauge__tr_request_t *req, memgauge__tr_response_t *resp,
                      const atomic_int *abort_flag, void *ctx)
{
    const memgauge__tr_config_t *cfg = ctx;
    memset(resp, 0, sizeof *resp);
    transfer_t t = {.resp = resp};
    CURL *e = curl_easy_init();
    CURLM *m = curl_multi_init();
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < req->header_count; i++) {
        struct curl_slist *h = curl_slist_append(headers, req->headers[i]);
        if (h == NULL)
            break;
        headers = h;
    }
    if (e == NULL || m == NULL)
        goto done;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->total_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM from a library thread */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
    if (cfg->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->proxy != NULL)
        curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy);
    if (curl_multi_add_handle(m, e) != CURLM_OK)
        goto done;
    int running = 1;
    while (running && !atomic_load(abort_flag)) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(m, NULL, 0, ABORT_POLL_MS, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK) {
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            resp->status = (int)code;
        }
    }
    curl_multi_remove_handle(m, e);
done:
    if (resp->status == 0)
        resp->retry_after[0] = '\0';
    curl_slist_free_all(headers);
    if (e != NULL)
        curl_easy_cleanup(e);
    if (m != NULL)
        curl_multi_cleanup(m);
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT); /* not thread-safe before 7.84: once */
}

memgauge__tr_send_fn memgauge__tr_curl_sender(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    return curl_send;
}
