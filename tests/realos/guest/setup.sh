# The setup boot (sourced by init.sh): the installer's last steps, done by the guest
# itself. It builds its own initramfs, installs its boot loader into the ESP and writes
# its boot configuration. Part of the cached image (image.py GUEST_FILES).
phase_setup() {
  KVER=$(ls /lib/modules)
  case "$STACK" in
    grub)
      xrun initramfs update-initramfs -u -k all
      expect_rc initramfs 0
      xrun grub_install grub-install --target=x86_64-efi --efi-directory=/boot/efi \
        --removable --no-nvram
      expect_rc grub_install 0
      xrun update_grub update-grub
      expect_rc update_grub 0 ;;
    sdboot)
      xrun bootctl bootctl install --esp-path=/boot/efi --no-variables
      expect_rc bootctl 0
      # What the kernel package's postinst does (linux-image-*.postinst): the hooks build
      # the initramfs (dracut) and install kernel + initrd + entry into the ESP
      # (zz-systemd-boot -> kernel-install).
      xrun kernel_hooks run-parts --verbose --exit-on-error --arg="$KVER" \
        --arg="/boot/vmlinuz-$KVER" /etc/kernel/postinst.d
      expect_rc kernel_hooks 0
      ls /boot/efi/loader/entries/*.conf >/dev/null 2>&1 || fail "no loader entry after kernel-install"
      ;;
  esac
  find /boot >"$OUT/boot.setup"
  emit boot.setup "$OUT/boot.setup"
}
