import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll a person from one or more photos.",
        discussion: """
            Each photo must show exactly one face of at least --min-face pixels. Where the HOG detector \
            finds no face, the CNN detector looks again (slower; it finds tilted faces HOG misses), \
            and the output says which photos it found. A photo with several \
            faces is refused unless --largest picks the largest one. Each face must pass the quality \
            gate: whole (not cut by the image edge), sharp, evenly lit, facing the camera and upright; \
            a refused photo names the failed check, its value against the limit and the option that \
            relaxes it. Every limit can be relaxed down to a hard limit past which a face is useless \
            for recognition, or tightened. A photo far from \
            the person's other photos is warned about: it may show someone else. If any photo is refused, nothing is \
            enrolled. If a face already matches another enrolled person at the standard level, the \
            command refuses unless --force: it is likely the wrong photo or the same person twice. \
            Photos may be added to an existing person later; the same photo file is never stored twice.

            --from-event takes the face snapshot faced kept of an unknown or denied visitor (see \
            `facectl log --decision unknown`): the way to teach the door someone it did not know.

            Examples:
              facectl enroll alice alice-1.jpg alice-2.jpg alice-3.jpg
              facectl enroll carol --from-event 812
              facectl enroll bob --display-name "Bob Stone" team-photo.jpg --largest
              facectl enroll dora --min-face 60 --max-yaw 45 dora-far-and-turned.jpg
            """)

    @Argument(help: "Short unique name: letters, digits, '.', '_' or '-'.")
    var name: String

    @Argument(help: "JPEG or PNG photos of the person.")
    var photos: [String] = []

    @Option(help: ArgumentHelp("Also enroll the face snapshot of this logged unknown or denied visitor.", valueName: "event-id"))
    var fromEvent: Int64?

    @Option(help: "Name to show in logs and listings (default: NAME).")
    var displayName: String?

    @Flag(help: "Take the largest face of a photo with several faces.")
    var largest = false

    @Flag(help: "Enroll even if a face matches another enrolled person.")
    var force = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var quality: QualityOptions

    func validate() throws {
        guard Person.isValidName(name) else { throw ValidationError(StoreError.invalidName(name).description) }
        if let displayName, let problem = Names.displayNameProblem(displayName) {
            throw ValidationError("--display-name '\(Names.escaped(displayName))': \(problem)")
        }
        guard !photos.isEmpty || fromEvent != nil else { throw ValidationError("give at least one photo, or --from-event EVENT_ID") }
        if let problem = QualityLimit.minFace.problem(with: Double(engineOptions.minFace)) {
            throw ValidationError("--min-face \(problem)")
        }
    }

    func run() throws {
        // An event lives in an existing gallery: never create one for it.
        let gallery = try store.open(create: fromEvent == nil)
        try gallery.checkName(name)
        let photos = try photos + (fromEvent.map { [try Enroller.snapshot(ofEvent: $0, in: gallery)] } ?? [])
        let engine = try engineOptions.engine(withCNN: true)
        var enroller = Enroller(engine: engine, store: gallery)
        enroller.decoder = engineOptions.decoder
        let options = EnrollmentOptions(minFace: engineOptions.minFace, takeLargest: largest, detector: engineOptions.detector,
                                        limits: quality.limits(minFace: engineOptions.minFace))
        let checked = try enroller.prepare(photos, for: name, options: options)

        let refused = checked.compactMap { item -> String? in
            guard case let .failure(reason) = item.result else { return nil }
            if case let .quality(failure) = reason { return "\(item.path): \(reason)\(failure.relaxHint)" }
            return "\(item.path): \(reason)"
        }
        guard refused.isEmpty else {
            throw CommandFailure("nothing enrolled; fix or leave out these photos:\n  " + refused.joined(separator: "\n  "))
        }
        let prepared = checked.compactMap { try? $0.result.get() }

        let conflicts = try enroller.conflicts(prepared, for: name, level: .standard)
        if !conflicts.isEmpty {
            for c in conflicts {
                printError("warning: \(c.path) looks like enrolled person '\(c.otherPerson)' "
                           + "(distance \(fixed(c.distance)) ≤ \(fixed(SecurityLevel.standard.maxDistance)))")
            }
            guard force else {
                throw CommandFailure("nothing enrolled; if '\(name)' really is someone else, run again with --force")
            }
        }

        let existing = try gallery.person(named: name).map { try gallery.templates(ofPersonID: $0.id!) } ?? []
        let vectors = existing.map { ($0.sourceName, $0.values) } + prepared.map { ($0.path, $0.face.embedding.values) }
        for w in Enroller.spread(of: name, vectors) {
            printError("warning: \(w.photo) is far from \(name)'s other photos (median distance \(fixed(w.medianDistance)) > "
                       + "\(fixed(Enroller.spreadLimit))): is it someone else?")
        }

        let person = try enroller.commit(prepared, name: name, displayName: displayName,
                                         action: fromEvent == nil ? .enroll : .enrollFromEvent,
                                         note: fromEvent.map { "with the snapshot of event \($0)" })
        let total = try gallery.templates(ofPersonID: person.id!).count
        print("enrolled \(person.name): \(prepared.count) photo\(prepared.count == 1 ? "" : "s") added, \(total) in total")
        for p in prepared where p.detector == .cnn && engineOptions.detector == .hog {
            print("  \(p.path): found by the CNN detector (HOG found no face)")
        }
        var rows = [["photo", "score"] + qualityHeader]
        for p in prepared {
            rows.append([p.path, fixed(Double(p.face.detection.score), 2)] + qualityRow(p.quality))
        }
        print(columns(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }
}
