import ArgumentParser
@preconcurrency import Foundation
import RPCHTTP2

/// How a client of this command reaches a server over TLS: `--ca-file`, a client certificate for mutual TLS,
/// and the name expected on the server's certificate; each falls back to an environment variable.
struct ClientTLSOptions: ParsableArguments {
    @Flag(name: .customLong("tls"), help: "Use TLS, trusting the system's CAs unless --ca-file (default: $AIMASS_TLS=1).")
    var useTLS = false

    @Option(name: .customLong("ca-file"), help: "PEM CAs that sign the server's certificate; implies --tls (default: $AIMASS_CA_FILE).")
    var caFile: String?

    @Option(name: .customLong("cert-file"), help: "PEM client certificate for mutual TLS; implies --tls (default: $AIMASS_CERT_FILE).")
    var certificateFile: String?

    @Option(name: .customLong("key-file"), help: "PEM private key of --cert-file (default: $AIMASS_KEY_FILE).")
    var keyFile: String?

    @Option(name: .customLong("server-name"), help: "The name on the server's certificate, when not the host dialled (default: $AIMASS_SERVER_NAME).")
    var serverName: String?

    /// The TLS configuration these options ask for, or `nil` for plaintext; exits with a clear message when a
    /// file cannot be used.
    /// `configFile` (the CLI's `key = value` file: `tls`, `ca-file`, `cert-file`, `key-file`, `server-name`) comes
    /// after the flags and the environment.
    func configuration(environment: [String: String], configFile: CLIConfigFile? = nil) -> ClientTLSConfiguration? {
        func pick(_ flag: String?, _ variable: String, _ key: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            if let value = configFile?[key], !value.isEmpty { return value }
            return nil
        }
        let caFile = pick(caFile, "AIMASS_CA_FILE", "ca-file")
        let certificateFile = pick(certificateFile, "AIMASS_CERT_FILE", "cert-file")
        let keyFile = pick(keyFile, "AIMASS_KEY_FILE", "key-file")
        let switchedOn = pick(nil, "AIMASS_TLS", "tls")?.lowercased()
        let wanted = useTLS || ["1", "true", "yes"].contains(switchedOn ?? "")
        guard wanted || caFile != nil || certificateFile != nil || keyFile != nil else { return nil }
        do {
            return try ClientTLSConfiguration(
                caFile: caFile, certificateFile: certificateFile, keyFile: keyFile,
                serverNameOverride: pick(serverName, "AIMASS_SERVER_NAME", "server-name")
            )
        } catch {
            CLIOutput.fail("\(error)")
        }
    }
}

/// The TLS of `aimass serve`'s listener, and the refusal of plaintext beyond loopback.
struct ServeTLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain to serve TLS with (ALPN h2); reloaded on SIGHUP and when the file changes.")
    var certificateFile: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var keyFile: String?

    @Option(name: .customLong("tls-client-ca"), help: "PEM CAs whose client certificates are required (mutual TLS).")
    var clientCAFile: String?

    @Option(name: .customLong("tls-reload-check-ms"), help: "How often the TLS files are checked for a change, in ms (0: only on SIGHUP).")
    var reloadCheckMs: Int = 1000

    @Flag(help: "Allow plaintext on an address other than loopback (tokens then cross the network in clear).")
    var insecure = false

    /// The listener's credentials, or `nil` for plaintext; exits with a clear message when the options or files
    /// do not make a usable server, or when plaintext would be exposed beyond loopback without --insecure.
    func credentials(host: String) -> TLSServerCredentials? {
        switch (certificateFile, keyFile) {
        case (let certificate?, let key?):
            guard reloadCheckMs >= 0 else { CLIOutput.fail("--tls-reload-check-ms must be >= 0, got \(reloadCheckMs)") }
            do {
                return try TLSServerCredentials(
                    files: .init(certificateChain: certificate, privateKey: key, clientCA: clientCAFile)
                )
            } catch {
                CLIOutput.fail("\(error)")
            }
        case (nil, nil):
            if clientCAFile != nil { CLIOutput.fail("--tls-client-ca needs --tls-cert and --tls-key") }
            if !insecure && !BindAddress.isLoopback(host) {
                CLIOutput.fail(
                    "refusing to serve plaintext on \(host): bearer tokens would cross the network in clear. "
                        + "Give --tls-cert and --tls-key (and --tls-client-ca for mutual TLS), bind a loopback "
                        + "address, or pass --insecure to accept plaintext"
                )
            }
            return nil
        default:
            CLIOutput.fail("--tls-cert and --tls-key go together")
        }
    }
}
