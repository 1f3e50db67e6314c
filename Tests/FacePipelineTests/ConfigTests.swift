import FaceAccess
import FaceCapture
import FacePipeline
import FaceTestSupport
import Foundation
import Testing

@Suite struct ConfigTests {
    static let example = Fixtures.root.appendingPathComponent("systemd/faced.toml").path

    func parse(_ text: String) throws -> DaemonOptions { try DaemonOptions(configText: text, file: "faced.toml") }

    func error(_ text: String) -> ConfigError? {
        do { _ = try parse(text); return nil } catch let error as ConfigError { return error } catch { return nil }
    }

    @Test func theShippedExampleReadsAndResolves() throws {
        let options = try DaemonOptions(configFile: Self.example)
        #expect(options.source == "v4l2:/dev/video0" && options.minFace == 80 && options.level == "standard")
        #expect(options.snapshots == "/var/lib/faced/snapshots" && options.snapshotGranted == false && options.actionTimeout == 5)
        let setup = try options.resolve()
        #expect(setup.source == .v4l2("/dev/video0"))
        #expect(setup.camera.width == 1280 && setup.camera.height == 720 && setup.camera.fps == 30)
        #expect(setup.settings.policy.evidence == EvidenceRule(required: 3, window: 5))
        #expect(setup.database == "/var/lib/faced/faced.db")
    }

    @Test func anUnknownKeyIsNamedWithItsLine() {
        let e = error("""
            [policy]
            level = "strict"

            levle = "relaxed"
            """)
        #expect(e?.line == 4 && e?.key == "policy.levle")
        #expect(e?.description == "faced.toml:4: policy.levle: unknown key; [policy] takes level, evidence, cooldown, patience, rejoin, evidence_min_face, evidence_min_sharpness, evidence_max_yaw, liveness, timezone")
        let section = error("database = \"/tmp/x.db\"\n[camrea]\nsource = \"v4l2:/dev/video0\"\n")
        #expect(section?.line == 2 && section?.key == "camrea" && section?.message.hasPrefix("unknown section") == true)
    }

    /// Found by fuzzing (Fuzz/FuzzDaemonConfig): toml++ aborted faced on this header.
    @Test func aTableHeaderWithoutANameIsAnErrorNotAnAbort() {
        let e = error("database = \"/tmp/x.db\"\n[.camera]\nsource = \"v4l2:/dev/video0\"\n")
        #expect(e?.description == "faced.toml:2: column 2: a table header must start with a name: letters, digits, _ or -, or a quoted name")
        #expect(error("[\n# Every key maps to a faced flag\n")?.line == 1)
    }

    /// Found by fuzzing: toml++ aborted faced on this 5-byte file; it is refused before toml++ sees it.
    @Test func aMalformedArrayIsAnErrorNotAnAbort() {
        #expect(error("s=[}")?.description == "faced.toml:1: column 4: expected a value or ] in the array, found '}'")
        #expect(error("[camera]\nfps = 3O\n")?.description == "faced.toml:2: column 7: 3O is not a valid number: unexpected O")
    }

    /// Found by fuzzing: effectiveText wrote strings as they were, so a \ or " in a path did not read back.
    @Test func theEffectiveTextReadsBackStringsWithBackslashesAndQuotes() throws {
        let options = try parse("database = \"C:\\\\db \\\"1\\\"\\t\\u0001.db\"\n")
        #expect(options.db == "C:\\db \"1\"\t\u{01}.db")
        #expect(options.effectiveText.contains("database = \"C:\\\\db \\\"1\\\"\\t\\u0001.db\"\n"))
        #expect(try parse(options.effectiveText) == options)
        let fuzzed = try parse("# /cac\ndatabase = \"" + String(repeating: "\\", count: 26) + "/vacmd.db\"\n# Directory w/epolicy ")
        #expect(try parse(fuzzed.effectiveText) == fuzzed)
    }

    @Test func aWrongTypeIsNamedWithItsLine() {
        let e = error("[camera]\nsource = \"v4l2:/dev/video0\"\nfps = \"thirty\"\n")
        #expect(e?.description == "faced.toml:3: camera.fps: must be a number, got string")
        let int = error("[detection]\nmin_face = 80.5\n")
        #expect(int?.line == 2 && int?.key == "detection.min_face" && int?.message == "must be an integer, got floating-point number")
        let flag = error("[snapshots]\ngranted = \"yes\"\n")
        #expect(flag?.key == "snapshots.granted" && flag?.message == "must be true or false, got string")
    }

    @Test func anOutOfRangeValueIsNamedWithItsLine() {
        let e = error("# door\n\n[detection]\nmin_face = 5\n")
        #expect(e?.description == "faced.toml:4: detection.min_face: must be between 20 and 2000, got 5")
        #expect(error("[policy]\nlevel = \"paranoid\"\n")?.message == "must be one of relaxed, standard, strict, got \"paranoid\"")
        #expect(error("[policy]\nevidence = \"5/3\"\n")?.key == "policy.evidence")
        #expect(error("[policy]\ntimezone = \"Mars/Olympus\"\n")?.key == "policy.timezone")
        #expect(error("[door]\naction = \"open-door\"\n")?.message == "must be an absolute path, got \"open-door\"")
    }

    @Test func evidenceLimitsAreCheckedAndReachThePolicy() throws {
        #expect(error("[policy]\nevidence_max_yaw = 0\n")?.description == "faced.toml:2: policy.evidence_max_yaw: must be between 10.0 and 90.0, got 0.0")
        #expect(error("[policy]\nevidence_min_sharpness = 500\n")?.key == "policy.evidence_min_sharpness")
        #expect(error("[policy]\nevidence_min_face = 72.5\n")?.message == "must be an integer, got floating-point number")
        #expect(error("[policy]\npatience = 0\n")?.key == "policy.patience")
        var flags = DaemonOptions()
        flags.evidenceMaxYaw = 5
        #expect(throws: OptionError(message: "--evidence-max-yaw must be between 10.0 and 90.0, got 5.0")) { try flags.checkFlags() }
        var options = try parse("[camera]\nsource = \"mjpeg:/x.mjpeg\"\n[policy]\nevidence_min_face = 72\nevidence_max_yaw = 20\nrejoin = 0\n")
        options.source = "mjpeg:/x.mjpeg"
        let policy = try options.resolve().settings.policy
        #expect(policy.quality == EvidenceQuality(minFace: 72, minSharpness: 8, maxYaw: 20) && policy.rejoin == 0 && policy.patience == 3)
    }

    @Test func aSyntaxErrorGivesItsLine() {
        let e = error("[camera]\nsource = \"v4l2:/dev/video0\n")
        #expect(e?.line == 2 && e?.key == nil)
    }

    @Test func flagsOverrideTheFileAndAreCheckedByTheirName() throws {
        let file = try parse("[policy]\nlevel = \"strict\"\ncooldown = 30\n[camera]\nsource = \"v4l2:/dev/video0\"\n")
        var flags = DaemonOptions()
        flags.level = "relaxed"
        let merged = flags.overriding(file)
        #expect(merged.level == "relaxed" && merged.cooldown == 30 && merged.source == "v4l2:/dev/video0")
        flags.minFace = 5
        #expect(throws: OptionError(message: "--min-face must be between 20 and 2000, got 5")) { try flags.checkFlags() }
        #expect(throws: OptionError.self) { try DaemonOptions().resolve() }
    }

    @Test func facedChecksAConfigAndPrintsTheEffectiveSettings() throws {
        let dir = try TempDirectory()
        let good = try Binaries.run("faced", ["--check-config", Self.example, "--level", "strict"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("level = \"strict\"") && good.stdout.contains("source = \"v4l2:/dev/video0\""))
        let broken = try dir.write("faced.toml", Array("[detection]\nmin_face = \"big\"\n".utf8))
        let bad = try Binaries.run("faced", ["--check-config", broken])
        #expect(bad.status == 1 && bad.stderr == "faced: \(broken):2: detection.min_face: must be an integer, got string\n", "\(bad.stderr)")
        let missing = try Binaries.run("faced", ["--config", dir.file("nope.toml"), "--source", "dir:/tmp"])
        #expect(missing.status == 1 && missing.stderr == "faced: \(dir.file("nope.toml")): no such file\n")
    }

    @Test func aReloadAppliesLiveKeysNamesRestartKeysAndRefusesABadFile() throws {
        let base = "[camera]\nsource = \"dir:/tmp\"\n"
        let started = try parse(base)
        final class Text: @unchecked Sendable { var value = "" }
        let text = Text()
        text.value = base
        let reloader = ConfigReloader(started: started, cnnLoaded: false) { try DaemonOptions(configText: text.value, file: "faced.toml") }

        guard case let .accepted(none, noRestart) = reloader.reload() else { Issue.record("same file refused"); return }
        #expect(none.isEmpty && noRestart.isEmpty && reloader.takePending() == nil)

        text.value = base + "name = \"back\"\nsize = \"640x480\"\n[policy]\nlevel = \"strict\"\n[detection]\ndetector = \"cnn\"\n"
        guard case let .accepted(applied, atRestart) = reloader.reload() else { Issue.record("good file refused"); return }
        #expect(applied == ["camera.name", "policy.level"])
        #expect(atRestart == ["camera.size", "detection.detector"])
        let pending = try #require(reloader.takePending())
        #expect(pending.camera == "back" && pending.policy.level == .strict && pending.detector == .hog)
        #expect(reloader.takePending() == nil, "taken once")

        text.value = base + "name = \"other\"\n[policy]\nlevel = \"strikt\"\n"
        guard case let .rejected(message) = reloader.reload() else { Issue.record("bad file accepted"); return }
        #expect(message.contains("faced.toml:5: policy.level: must be one of relaxed, standard, strict"), "\(message)")
        #expect(reloader.takePending() == nil, "a refused file changes nothing")
    }
}
