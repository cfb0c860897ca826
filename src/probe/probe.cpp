#include "probe/probe.h"

#include "probe/iommu.h"
#include "probe/pci.h"
#include "probe/system.h"

namespace exliar {

Inventory probe(const Fs& fs) {
  Inventory inv;
  inv.system = probe_system(fs, inv.notes);
  bool complete = false;
  inv.devices = scan_pci(fs, inv.notes, &complete);
  inv.pci_ids_path = name_devices(fs, inv.devices, inv.notes);
  inv.groups = scan_iommu_groups(fs, inv.devices, complete, inv.notes);
  inv.gpus = find_gpus(inv.devices, inv.groups, inv.system.iommu.active);
  return inv;
}

}  // namespace exliar
