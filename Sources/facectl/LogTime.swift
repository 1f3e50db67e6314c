import ArgumentParser
import FaceAccess
import FaceStore
import Foundation

/// The zone times are shown and read in.
struct ZoneOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Show and read times in this IANA zone (Europe/Berlin). Default: $TZ if set, else the "
                               + "policy.timezone of faced's config, else the system's.", valueName: "zone"))
    var timeZone: String?

    @Flag(help: "Show and read times in UTC.")
    var utc = false

    func validate() throws {
        if utc && timeZone != nil { throw ValidationError("choose one of --utc and --time-zone") }
        if let timeZone, ReaderTimeZone.named(timeZone) == nil { throw ValidationError(UnknownTimeZone(name: timeZone).description) }
    }

    /// The zone to use; a $TZ passed over is said once on stderr.
    var zone: TimeZone {
        get throws {
            if utc { return .gmt }
            do {
                let resolved = try ReaderTimeZone.resolve(option: timeZone, environment: ProcessInfo.processInfo.environment)
                if let note = resolved.note { printError(note) }
                return resolved.zone
            } catch {
                throw CommandFailure(error.description)
            }
        }
    }
}

/// Which stretch of time a log question is about, in the reader's words.
struct RangeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Events at or after this time.", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Events before this time (a day means its first moment: --until today stops at midnight).", valueName: "time"))
    var until: String?
    @Option(help: ArgumentHelp("Events on this day (today, yesterday, sunday, 2026-11-24) or in this week or month (last week, this month).",
                               valueName: "day"))
    var on: String?
    @Option(help: ArgumentHelp("Only events inside this daily window, e.g. 20:00-06:00 (past midnight when the end is earlier).",
                               valueName: "HH:MM-HH:MM"))
    var hours: String?

    static let discussion = """
        Times are local (see --time-zone) unless they name a zone:
          now, today, yesterday, monday (the most recent, today included), last monday
          20:00 or 8pm (today), yesterday 20:00, mon 08:00, 2026-11-24 20:00
          this week, last week (Monday to Monday), this month, last month
          30m, 2h, 3d, 1w, 3 days ago (before now)
          2026-11-24 (that day), 2026-11-24T20:00:00+01:00 (ISO 8601)
        """

    func validate() throws {
        if let hours { _ = try window(hours) }
    }

    /// The range the options name, as of `now` in `zone`: `--on` gives a period, `--since` and
    /// `--until` narrow it.
    func range(now: Date, zone: TimeZone) throws -> (since: Date?, until: Date?) {
        func read(_ text: String?, _ option: String) throws -> TimeSpan? {
            guard let text else { return nil }
            do { return try TimeExpression.resolve(text, now: now, zone: zone) } catch {
                throw CommandFailure("\(option): \(error.description)")
            }
        }
        var since = try read(since, "--since")?.start
        var until = try read(until, "--until")?.start
        if let day = try read(on, "--on") {
            guard !day.isMoment else {
                throw CommandFailure("--on takes a day or a week (today, yesterday, sunday, 2026-11-24, last week); "
                                     + "'\(TimeExpressionError.shown(on!))' names a moment (or a day \(zone.identifier) skipped); use --since and --until for times")
            }
            since = max(since ?? day.start, day.start)
            until = min(until ?? day.end, day.end)
        }
        if let since, let until, until < since {
            throw CommandFailure("--until (\(TimeDisplay(zone: zone).string(until))) is before --since (\(TimeDisplay(zone: zone).string(since))); nothing can match")
        }
        return (since, until)
    }

    /// `--hours` as a daily window, or nil.
    func window() throws -> Schedule? { try hours.map(window) }

    private func window(_ text: String) throws -> Schedule {
        do { return try Schedule(parsing: "daily " + text) } catch {
            throw ValidationError("--hours must be a daily window HH:MM-HH:MM such as 20:00-06:00, got '\(TimeExpressionError.shown(text))'")
        }
    }
}
