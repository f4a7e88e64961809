/*
 * Mapping a file from a descriptor.
 *
 * pc_mmap_space runs the VFS's vfs_mmap, which checks the descriptor, the
 * offset and the protection against the file's open mode and calls the
 * filesystem's vop mmap; a filesystem that caches through this layer
 * answers with pc_mmap_hook, which hands back a struct pc_map holding the
 * object and a reference to the vnode. Then vm_mmap makes the area with
 * the page cache as pager; the area owns the pc_map from then on and the
 * last area of it (munmap, split areas included) drops the vnode.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/kmem.h>
#include <vfs.h>

int pc_mmap_hook(struct vnode *vp, struct pc_object *obj, struct vfs_mmap_req *req)
{
	if (vp->v_type != VREG)
		return -ENODEV;
	struct pc_map *m = kzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->obj = obj;
	m->vp = vp;
	atomic_store(&m->refs, 1);
	vnode_ref(vp);
	req->result = m;
	return 0;
}

void pc_mmap_cancel(void *result)
{
	struct pc_map *m = result;
	if (m->vp)
		vnode_rele(m->vp);
	kfree(m);
}

int pc_mmap_space(struct vm_space *vs, int fd, size_t len, int prot, int flags, uint64_t offset,
		  void **out)
{
	if (!vs || !out)
		return -EINVAL;
	struct vfs_mmap_req req = {.offset = offset, .length = len, .prot = prot, .flags = flags};
	int e = vfs_mmap(fd, &req);
	if (e)
		return e;
	if (!req.result)
		return -ENODEV;
	unsigned mprot = MMU_READ;
	if (prot & VFS_PROT_WRITE)
		mprot |= MMU_WRITE;
	if (prot & VFS_PROT_EXEC)
		mprot |= MMU_EXEC;
	unsigned vflags = (flags & VFS_MAP_SHARED) ? VM_MAP_SHARED : VM_MAP_PRIVATE;
	e = vm_mmap(vs, NULL, len, mprot, vflags, &pc_pager_ops, req.result, offset, out);
	if (e)
		pc_mmap_cancel(req.result);
	return e;
}
