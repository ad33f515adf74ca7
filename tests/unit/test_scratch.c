/*
 * test_scratch.c: the command scratch's owner check (cw_scratch.h): a part is one user's at a
 * time, and a second user claiming it ends in the board's assertion hook, which fails the test
 * run; so two users that overlap cannot go unnoticed.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cw/core/cw_scratch.h"

static void test_one_user_at_a_time(void **state)
{
    (void)state;
    cw_scratch_reset();
    void *a = cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_MODEL);
    assert_non_null(a);
    assert_int_equal(cw_scratch_holder(CW_SCRATCH_A), CW_SCRATCH_MODEL);
    /* part B is independent */
    assert_non_null(cw_scratch_claim(CW_SCRATCH_B, CW_SCRATCH_CONSOLE));
    /* a user that may wait is told no, and nothing changes */
    assert_null(cw_scratch_try_claim(CW_SCRATCH_A, CW_SCRATCH_JOB));
    assert_null(cw_scratch_try_claim(CW_SCRATCH_A, CW_SCRATCH_MODEL)); /* not twice, not even its own */
    assert_int_equal(cw_scratch_holder(CW_SCRATCH_A), CW_SCRATCH_MODEL);
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_MODEL);
    assert_int_equal(cw_scratch_holder(CW_SCRATCH_A), CW_SCRATCH_FREE);
    assert_ptr_equal(cw_scratch_try_claim(CW_SCRATCH_A, CW_SCRATCH_JOB), a);
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_JOB);
    cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_CONSOLE);
    assert_int_equal(cw_scratch_part_size[CW_SCRATCH_A] > 0, 1);
}

/* Runs f in a child process and says whether it died by SIGABRT (the unit-test board's
 * assertion hook aborts). */
static int dies_by_assertion(void (*f)(void))
{
    pid_t pid = fork();
    int status = 0;
    if (pid == 0) {
        f();
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void overlap_claim(void)
{
    cw_scratch_reset();
    (void)cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_JOB);
    (void)cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_MODEL); /* the overlap */
}

static void foreign_release(void)
{
    cw_scratch_reset();
    (void)cw_scratch_claim(CW_SCRATCH_B, CW_SCRATCH_JOB);
    cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_CONSOLE); /* not its to give back */
}

static void proper_use(void)
{
    cw_scratch_reset();
    (void)cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_JOB);
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_JOB);
    (void)cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_MODEL);
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_MODEL);
}

static void test_an_overlap_fails_the_run(void **state)
{
    (void)state;
    assert_true(dies_by_assertion(overlap_claim));
    assert_true(dies_by_assertion(foreign_release));
    assert_false(dies_by_assertion(proper_use));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_user_at_a_time),
        cmocka_unit_test(test_an_overlap_fails_the_run),
    };
    return cmocka_run_group_tests_name("command scratch (claim, release, owner check)", tests, NULL, NULL);
}
