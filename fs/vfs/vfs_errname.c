/*
 * Names of error numbers, for messages ("mount /data: ENODEV").
 */
#include "vfs_impl.h"

static const char *const vfs_errnames[] = {
    [EPERM] = "EPERM",	   [ENOENT] = "ENOENT",
    [EIO] = "EIO",	   [ENXIO] = "ENXIO",
    [EBADF] = "EBADF",	   [EAGAIN] = "EAGAIN",
    [ENOMEM] = "ENOMEM",   [EACCES] = "EACCES",
    [EFAULT] = "EFAULT",   [EBUSY] = "EBUSY",
    [EEXIST] = "EEXIST",   [EXDEV] = "EXDEV",
    [ENODEV] = "ENODEV",   [ENOTDIR] = "ENOTDIR",
    [EISDIR] = "EISDIR",   [EINVAL] = "EINVAL",
    [ENFILE] = "ENFILE",   [EMFILE] = "EMFILE",
    [ENOTTY] = "ENOTTY",   [EFBIG] = "EFBIG",
    [ENOSPC] = "ENOSPC",   [ESPIPE] = "ESPIPE",
    [EROFS] = "EROFS",	   [EMLINK] = "EMLINK",
    [ERANGE] = "ERANGE",   [ENAMETOOLONG] = "ENAMETOOLONG",
    [ENOSYS] = "ENOSYS",   [ENOTEMPTY] = "ENOTEMPTY",
    [ELOOP] = "ELOOP",	   [EOVERFLOW] = "EOVERFLOW",
    [ENOTSUP] = "ENOTSUP", [ETIMEDOUT] = "ETIMEDOUT",
};

const char *vfs_errname(int err)
{
	if (err < 0)
		err = -err;
	if (err < (int)ARRAY_SIZE(vfs_errnames) && vfs_errnames[err])
		return vfs_errnames[err];
	return "E?";
}
