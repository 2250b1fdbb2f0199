/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "platform.h"

/* Paths from each agent's source: open-vm-tools
 * services/plugins/vmbackup/scriptOps.c and lib/guestApp/guestApp.c;
 * Nutanix's documentation (its agent is closed); GoogleCloudPlatform
 * guest-agent google_guest_agent/snapshot_listener.go; Azure
 * azure-linux-extensions VMBackup/main/PluginHost.py. */
static const char *const vmware_agents[] = { "/usr/bin/vmtoolsd", NULL };
static const char *const nutanix_agents[] = { "/usr/local/nutanix/ngt", NULL };
static const char *const gce_agents[] = { "/usr/bin/google_guest_agent", "/usr/bin/google_guest_agent_manager", NULL };
static const char *const azure_agents[] = { "/usr/sbin/waagent", NULL };

static const struct fh_platform_info platforms[_FH_PLATFORM_MAX] = {
        [FH_PLATFORM_VMWARE] = {
                .name = "vmware",
                .title = "VMware Tools",
                .pre_script = "/usr/sbin/pre-freeze-script",
                .post_script = "/usr/sbin/post-thaw-script",
                .script_dir = "/etc/vmware-tools/backupScripts.d",
                .agents = vmware_agents,
        },
        [FH_PLATFORM_NUTANIX] = {
                .name = "nutanix",
                .title = "Nutanix Guest Tools",
                .pre_script = "/usr/local/sbin/pre_freeze",
                .post_script = "/usr/local/sbin/post_thaw",
                .agents = nutanix_agents,
        },
        [FH_PLATFORM_GCE] = {
                .name = "gce",
                .title = "Google guest agent",
                .pre_script = "/etc/google/snapshots/pre.sh",
                .post_script = "/etc/google/snapshots/post.sh",
                .agents = gce_agents,
        },
        [FH_PLATFORM_AZURE] = {
                .name = "azure",
                .title = "Azure VM backup",
                .config = "/etc/azure/VMSnapshotScriptPluginConfig.json",
                .agents = azure_agents,
        },
};

const struct fh_platform_info *fh_platform_info(enum fh_platform p) {
        if (p < 0 || p >= _FH_PLATFORM_MAX)
                return NULL;
        return &platforms[p];
}

const char *fh_platform_to_string(enum fh_platform p) {
        const struct fh_platform_info *i = fh_platform_info(p);

        return i ? i->name : NULL;
}

int fh_platform_from_string(const char *s) {
        for (int i = 0; s && i < _FH_PLATFORM_MAX; i++)
                if (strcmp(s, platforms[i].name) == 0)
                        return i;
        return -EINVAL;
}

char *fh_platform_path(const char *root, const char *path) {
        if (!root || !*root || g_str_equal(root, "/"))
                return g_strdup(path);
        return g_build_filename(root, path, NULL);
}
