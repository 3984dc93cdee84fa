/* Baseline for `make bench`: the smallest useful libfcgi responder, threaded like
 * store-api (one FCGX_Request per thread, FCGX_Accept_r loops on one unix socket). */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int sock;

static void *loop(void *arg) {
    (void)arg;
    FCGX_Request request;
    FCGX_InitRequest(&request, sock, 0);
    static const char reply[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, world\n";
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(reply, sizeof reply - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: hello SOCKET THREADS\n"); return 2; }
    FCGX_Init();
    unlink(argv[1]);
    sock = FCGX_OpenSocket(argv[1], 1024);
    if (sock < 0) { perror("FCGX_OpenSocket"); return 1; }
    chmod(argv[1], 0600);
    int n = atoi(argv[2]);
    pthread_t threads[256];
    for (int i = 0; i < n && i < 256; i++) pthread_create(&threads[i], NULL, loop, NULL);
    for (int i = 0; i < n && i < 256; i++) pthread_join(threads[i], NULL);
    return 0;
}
