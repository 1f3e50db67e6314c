import FaceStore
import FaceVision
import Foundation

/// What `facectl sync` will change, worked out without computing a single embedding.
public struct SyncPlan: Sendable {
    public struct PersonPlan: Sendable {
        public var entry: AccessManifest.Entry
        public var isNew: Bool
        /// Photos not in the gallery yet, by content.
        public var newPhotos: [PhotoFile]
        /// Templates whose photo is no longer listed.
        public var removed: [FaceTemplate]
        /// Templates that stay.
        public var kept: [FaceTemplate]
        /// "groups: staff → lab, staff", one per changed field.
        public var fieldChanges: [String]

        public var hasChanges: Bool { isNew || !newPhotos.isEmpty || !removed.isEmpty || !fieldChanges.isEmpty }
    }

    public struct GroupChange: Sendable, Equatable {
        public var name: String
        public var from: [String]
        public var to: [String]
    }

    public var people: [PersonPlan]
    public var groups: [GroupChange]
    public var groupSchedules: [String: [String]]
    /// Enrolled people the manifest does not list: removed with prune, else kept.
    public var unlisted: [(name: String, templates: Int)]
    public var prune: Bool
    public var limits: QualityLimits

    public var changedPeople: [PersonPlan] { people.filter(\.hasChanges) }
    public var photosToEmbed: Int { people.reduce(0) { $0 + $1.newPhotos.count } }
    public var templatesToRemove: Int {
        people.reduce(0) { $0 + $1.removed.count } + (prune ? unlisted.reduce(0) { $0 + $1.templates } : 0)
    }
    public var isEmpty: Bool { changedPeople.isEmpty && groups.isEmpty && (!prune || unlisted.isEmpty) }

    /// The diff, one line per person or group: + new, ~ changed, - removed, = kept though unlisted.
    public func lines(relativeTo base: String) -> [String] {
        func short(_ path: String) -> String { path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path }
        var out = [String]()
        for p in changedPeople {
            var parts = [String]()
            if p.isNew { parts.append("new, \(p.newPhotos.count) photo\(p.newPhotos.count == 1 ? "" : "s")") }
            else {
                if !p.newPhotos.isEmpty { parts.append(p.newPhotos.map { "+ \(short($0.path))" }.joined(separator: ", ")) }
                if !p.removed.isEmpty { parts.append(p.removed.map { "- \($0.sourceName)" }.joined(separator: ", ")) }
            }
            parts += p.fieldChanges
            out.append("\(p.isNew ? "+" : "~") \(p.entry.name): " + parts.joined(separator: "; "))
            if p.isNew { out += p.newPhotos.map { "    + \(short($0.path))" } }
        }
        for u in unlisted {
            out.append(prune ? "- \(u.name): not in the manifest; removed with \(u.templates) template\(u.templates == 1 ? "" : "s")"
                : "= \(u.name): not in the manifest; kept (--prune removes)")
        }
        for g in groups {
            out.append("~ group \(g.name): schedules \(SyncPlan.list(g.from)) → \(SyncPlan.list(g.to))")
        }
        return out
    }

    public var summary: String {
        let changed = changedPeople
        let added = changed.filter(\.isNew).count, modified = changed.count - added
        let removed = prune ? unlisted.count : 0
        if isEmpty { return "no changes" + (unlisted.isEmpty ? "" : "; \(unlisted.count) unlisted kept") }
        return "\(added) to add, \(modified) to change, \(removed) to remove; \(photosToEmbed) photo\(photosToEmbed == 1 ? "" : "s") to embed, "
            + "\(templatesToRemove) template\(templatesToRemove == 1 ? "" : "s") to remove"
            + (groups.isEmpty ? "" : ", \(groups.count) group\(groups.count == 1 ? "" : "s") to change")
    }

    static func list(_ values: [String]) -> String { values.isEmpty ? "(none)" : values.joined(separator: ", ") }
}

/// Two different people closer than the strict level allows: siblings, or one person under two names.
public struct PersonConflict: Sendable, Hashable {
    public var first: String
    public var second: String
    public var distance: Float
}

/// A manifest photo the gate or the detector refused.
public struct SyncRejection: Sendable, Hashable {
    public var person: String
    public var path: String
    public var reason: PhotoRejection
}

extension SyncRejection {
    /// Which manifest keys would let the photo through, for a quality refusal.
    var relaxHint: String {
        guard case let .quality(failure) = reason else { return "" }
        let key = failure.relaxedBy.rawValue
        return " (people.\(person).quality.\(key) or [quality] \(key) to relax)"
    }
}

public enum SyncError: Error, CustomStringConvertible {
    case rejected([SyncRejection])

    public var description: String {
        switch self {
        case let .rejected(list):
            "nothing changed; fix or leave out these photos:\n" + list.map { "  \($0.path) (\($0.person)): \($0.reason)\($0.relaxHint)" }
                .joined(separator: "\n")
        }
    }
}

/// What a sync did.
public struct SyncResult: Sendable {
    /// Embeddings computed: 0 when nothing new was listed.
    public var embedded: Int
    public var spread: [SpreadWarning]
    public var conflicts: [PersonConflict]
    /// Photos whose face only the CNN detector found.
    public var foundByCNN: [String]

    public init(embedded: Int, spread: [SpreadWarning], conflicts: [PersonConflict], foundByCNN: [String] = []) {
        self.embedded = embedded
        self.spread = spread
        self.conflicts = conflicts
        self.foundByCNN = foundByCNN
    }
}

/// Brings the gallery in line with a manifest.
public struct Syncer: Sendable {
    public let store: FaceStore

    public init(store: FaceStore) { self.store = store }

    /// Reads every listed photo and hashes it; compares people, photos, groups and schedules with
    /// the gallery. Computes no embedding.
    public func plan(_ manifest: AccessManifest, prune: Bool) throws -> SyncPlan {
        var plans = [SyncPlan.PersonPlan]()
        var unreadable = [SyncRejection]()
        let listed = Set(manifest.people.map { Names.folded($0.name) })
        for entry in manifest.people {
            var files = [PhotoFile](), seen = Set<String>()
            for path in try manifest.photoPaths(of: entry) {
                switch PhotoFile.read(path) {
                case let .failure(reason): unreadable.append(SyncRejection(person: entry.name, path: path, reason: reason))
                case let .success(file): if seen.insert(file.sha256).inserted { files.append(file) }
                }
            }
            let person = try store.person(named: entry.name)
            let templates = try person.map { try store.templates(ofPersonID: $0.id!) } ?? []
            let stored = Set(templates.map(\.sourceSHA256))
            var plan = SyncPlan.PersonPlan(entry: entry, isNew: person == nil, newPhotos: files.filter { !stored.contains($0.sha256) },
                                           removed: templates.filter { !seen.contains($0.sourceSHA256) },
                                           kept: templates.filter { seen.contains($0.sourceSHA256) }, fieldChanges: [])
            plan.fieldChanges = try fieldChanges(entry, person)
            plans.append(plan)
        }
        if !unreadable.isEmpty { throw SyncError.rejected(unreadable) }
        let unlisted = try store.people().filter { !listed.contains(Names.folded($0.person.name)) }
            .map { (name: $0.person.name, templates: $0.templateCount) }
        var groupChanges = [SyncPlan.GroupChange]()
        let storedGroups = Dictionary(uniqueKeysWithValues: try store.groups().map { ($0.name, $0.schedules) })
        for name in Set(storedGroups.keys).union(manifest.groups.keys).sorted() {
            let from = storedGroups[name] ?? [], to = manifest.groups[name] ?? []
            if from != to { groupChanges.append(.init(name: name, from: from, to: to)) }
        }
        return SyncPlan(people: plans, groups: groupChanges, groupSchedules: manifest.groups, unlisted: unlisted, prune: prune,
                        limits: manifest.limits)
    }

    private func fieldChanges(_ entry: AccessManifest.Entry, _ person: Person?) throws -> [String] {
        let access = try person.map { try store.access(ofPersonID: $0.id!) }
        var changes = [String]()
        func change(_ field: String, _ from: String, _ to: String, isNew: Bool) {
            if isNew { if !to.isEmpty && to != "(none)" { changes.append("\(field) \(to)") } }
            else if from != to { changes.append("\(field): \(from) → \(to)") }
        }
        let isNew = person == nil
        func day(_ date: Date?) -> String { date.map { $0.formatted(Date.ISO8601FormatStyle(timeZone: .current)) } ?? "(none)" }
        let displayName = entry.displayName ?? entry.name
        if isNew { if displayName != entry.name { changes.append("display name \"\(displayName)\"") } }
        else if person!.displayName != displayName { changes.append("display name: \"\(person!.displayName)\" → \"\(displayName)\"") }
        if isNew { if !entry.enabled { changes.append("disabled") } }
        else if person!.enabled != entry.enabled { changes.append(entry.enabled ? "enabled" : "disabled") }
        change("valid from", day(person?.validFrom), day(entry.validFrom), isNew: isNew)
        change("valid until", day(person?.validUntil), day(entry.validUntil), isNew: isNew)
        change("groups", SyncPlan.list(access?.groups ?? []), SyncPlan.list(Set(entry.groups).sorted()), isNew: isNew)
        change("schedules", SyncPlan.list(access?.ownSchedules ?? []), SyncPlan.list(entry.schedules), isNew: isNew)
        change("level", person?.securityLevel ?? "(none)", entry.level?.name ?? "(none)", isNew: isNew)
        change("liveness", person?.liveness ?? "(none)", entry.liveness?.rawValue ?? "(none)", isNew: isNew)
        return changes
    }

    /// Embeds the new photos (in parallel, on the enroller's engines), refuses the whole sync if
    /// any photo fails, then applies everything in one transaction.
    public func apply(_ plan: SyncPlan, enroller: Enroller, options: EnrollmentOptions,
                      progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> SyncResult {
        let jobs = plan.people.flatMap { p in p.newPhotos.map { (person: p.entry.name, file: $0, entry: p.entry) } }
        let perPhoto = jobs.map { job in
            var o = options
            o.takeLargest = o.takeLargest || job.entry.largest
            // The person's own limits win over the manifest's and the command line's.
            o.limits = o.limits.with(job.entry.quality)
            o.minFace = o.limits.minFace
            return o
        }
        let results = enroller.examine(jobs.map(\.file), options: perPhoto, progress: progress)
        var rejected = [SyncRejection](), prepared = [String: [PreparedPhoto]]()
        for (job, result) in zip(jobs, results) {
            switch result {
            case let .success(photo): prepared[job.person, default: []].append(photo)
            case let .failure(reason): rejected.append(SyncRejection(person: job.person, path: job.file.path, reason: reason))
            }
        }
        if !rejected.isEmpty { throw SyncError.rejected(rejected) }
        var spread = [SpreadWarning]()
        var people = [PersonSync]()
        for p in plan.changedPeople {
            let new = prepared[p.entry.name] ?? []
            spread += Enroller.spread(of: p.entry.name, p.kept.map { ($0.sourceName, $0.values) } + new.map { ($0.path, $0.face.embedding.values) })
            people.append(PersonSync(name: p.entry.name, displayName: p.entry.displayName ?? p.entry.name, enabled: p.entry.enabled,
                                     validFrom: p.entry.validFrom, validUntil: p.entry.validUntil, securityLevel: p.entry.level?.name,
                                     liveness: p.entry.liveness?.rawValue, groups: p.entry.groups, schedules: p.entry.schedules, addTemplates: new.map(\.template),
                                     removeSHA256: p.removed.map(\.sourceSHA256)))
        }
        if !plan.isEmpty {
            try store.apply(GallerySync(people: people, groupSchedules: plan.groupSchedules, remove: plan.prune ? plan.unlisted.map(\.name) : []))
        }
        return SyncResult(embedded: jobs.count, spread: spread, conflicts: try Self.conflicts(in: store.snapshot()),
                          foundByCNN: prepared.values.flatMap { $0 }.filter { $0.detector == .cnn && options.detector == .hog }.map(\.path).sorted())
    }

    /// Pairs of different people whose closest templates are within `level`'s distance.
    public static func conflicts(in snapshot: GallerySnapshot, level: SecurityLevel = .strict) -> [PersonConflict] {
        let d = GallerySnapshot.dimension, n = snapshot.count
        var closest = [Int: [Int: Float]]()
        snapshot.vectors.withUnsafeBufferPointer { v in
            for i in 0 ..< n {
                for j in i + 1 ..< n where snapshot.owner[i] != snapshot.owner[j] {
                    var sum: Float = 0
                    for k in 0 ..< d {
                        let diff = v[i * d + k] - v[j * d + k]
                        sum += diff * diff
                    }
                    let distance = sum.squareRoot()
                    guard distance <= level.maxDistance else { continue }
                    let a = Int(min(snapshot.owner[i], snapshot.owner[j])), b = Int(max(snapshot.owner[i], snapshot.owner[j]))
                    closest[a, default: [:]][b] = min(closest[a]?[b] ?? .infinity, distance)
                }
            }
        }
        return closest.flatMap { a, row in
            row.map { b, distance in PersonConflict(first: snapshot.people[a].name, second: snapshot.people[b].name, distance: distance) }
        }.sorted { $0.distance < $1.distance }
    }
}
