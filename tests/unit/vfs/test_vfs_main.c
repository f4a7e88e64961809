/*
 * The VFS Check suite: one suite, one test case per area, each test in a
 * fresh forked process with a ramfs root (vt_setup) that must tear down
 * with no vnode left referenced (vt_teardown).
 */
#include "vfs_test_util.h"

#include <stdlib.h>

TCase *tcase_files(void);
TCase *tcase_names(void);
TCase *tcase_lookup(void);
TCase *tcase_mount(void);
TCase *tcase_boot(void);
TCase *tcase_badinput(void);
TCase *tcase_procfs(void);
TCase *tcase_devfs(void);
TCase *tcase_ramfs(void);
TCase *tcase_concurrency(void);

int main(void)
{
	Suite *s = suite_create("vfs");
	suite_add_tcase(s, tcase_files());
	suite_add_tcase(s, tcase_names());
	suite_add_tcase(s, tcase_lookup());
	suite_add_tcase(s, tcase_mount());
	suite_add_tcase(s, tcase_boot());
	suite_add_tcase(s, tcase_badinput());
	suite_add_tcase(s, tcase_procfs());
	suite_add_tcase(s, tcase_devfs());
	suite_add_tcase(s, tcase_ramfs());
	suite_add_tcase(s, tcase_concurrency());
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
