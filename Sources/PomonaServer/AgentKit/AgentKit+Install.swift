extension AgentKit {
    /// The text of `INSTALL.txt`: exact steps for macOS (launchd) and Linux (systemd).
    static func installInstructions(installPrefix: String, hostPort: String) -> String {
        let flags = AgentFlags.flagfileName
        let ca = AgentFlags.caFileName
        let secret = AgentFlags.secretFileName
        let plist = "\(launchdLabel).plist"
        return """
            Pomona agent kit
            ================

            These files make an unmodified osqueryd (5.x) enroll with the Pomona server at
            \(hostPort). Install the official osquery package first, then run the commands
            below as root from the directory holding this kit.

              \(flags)      flagfile: server, endpoints, intervals, watchdog, events
              \(ca)      the Pomona CA; osqueryd trusts only this CA for the server
              \(secret)       enroll secret (keep it mode 0600, owned by root)
              \(plist)  launchd job (macOS)

            All paths inside \(flags) point into \(installPrefix).


            macOS
            -----

            1. Copy the kit into place:

                 sudo mkdir -p \(installPrefix)
                 sudo cp \(flags) \(ca) \(secret) \(installPrefix)/
                 sudo chown root:wheel \(installPrefix)/\(flags) \(installPrefix)/\(ca) \(installPrefix)/\(secret)
                 sudo chmod 0644 \(installPrefix)/\(flags) \(installPrefix)/\(ca)
                 sudo chmod 0600 \(installPrefix)/\(secret)
                 sudo mkdir -p /var/log/osquery

            2. Install the launchd job (replacing the package's default one, if loaded):

                 sudo launchctl bootout system/\(launchdLabel) 2>/dev/null || true
                 sudo cp \(plist) /Library/LaunchDaemons/\(plist)
                 sudo chown root:wheel /Library/LaunchDaemons/\(plist)
                 sudo chmod 0644 /Library/LaunchDaemons/\(plist)
                 sudo launchctl bootstrap system /Library/LaunchDaemons/\(plist)
                 sudo launchctl kickstart -k system/\(launchdLabel)

            3. Check it is running and enrolled:

                 sudo launchctl print system/\(launchdLabel) | grep state
                 tail /var/log/osquery/osqueryd.stderr /var/log/osquery/osqueryd.INFO

               process_events uses the OpenBSM audit pipe, which osqueryd configures itself
               (--audit_allow_config). Give osqueryd Full Disk Access (System Settings >
               Privacy & Security) if the MDM profile does not already.


            Linux (systemd, official .deb/.rpm package)
            -------------------------------------------

            1. Copy the kit into place. The packaged osqueryd.service reads
               /etc/osquery/osquery.flags:

                 sudo mkdir -p \(installPrefix)
                 sudo install -m 0644 -o root -g root \(ca) \(installPrefix)/\(ca)
                 sudo install -m 0600 -o root -g root \(secret) \(installPrefix)/\(secret)
                 sudo install -m 0644 -o root -g root \(flags) /etc/osquery/osquery.flags

            2. Process auditing: with --disable_audit=false and --audit_allow_config=true osqueryd
               takes over the kernel audit netlink socket, which conflicts with auditd. Either stop
               auditd (sudo systemctl disable --now auditd) or set --disable_audit=true in
               /etc/osquery/osquery.flags (process_events will then stay empty).

            3. Start it and check:

                 sudo systemctl enable --now osqueryd
                 sudo systemctl restart osqueryd
                 systemctl status osqueryd
                 sudo journalctl -u osqueryd -n 50


            Troubleshooting
            ---------------

            * "certificate verify failed": the host name agents use (\(hostPort)) must be one of
              the server certificate's names; start the server with --server-name <that name>.
            * Enrollment is refused: the secret in \(installPrefix)/\(secret) must match the server's.
            * Changing the flagfile needs an osqueryd restart: these flags cannot be pushed remotely.

            """
    }
}
