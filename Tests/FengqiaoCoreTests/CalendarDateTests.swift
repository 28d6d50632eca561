import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Calendar dates (Gregorian, GB/T 7408)")
struct CalendarDateTests {
    @Test("Gregorian leap rule: 1900 is not a leap year, 2000 is")
    func leap() {
        #expect(CalendarDate.isLeapYear(2000))
        #expect(!CalendarDate.isLeapYear(1900))
        #expect(!CalendarDate.isLeapYear(1800))
        #expect(CalendarDate.isLeapYear(1600))
        #expect(CalendarDate.isLeapYear(2024))
        #expect(!CalendarDate.isLeapYear(2023))
        #expect(!CalendarDate.isLeapYear(2100))
        #expect(CalendarDate.daysInMonth(2, year: 2000) == 29)
        #expect(CalendarDate.daysInMonth(2, year: 1900) == 28)
        #expect((1...12).map { CalendarDate.daysInMonth($0, year: 2023) } == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        #expect(CalendarDate.daysInMonth(13, year: 2023) == 0)
    }

    @Test("the leap rule agrees with Foundation's Gregorian calendar for 1600–2400")
    func leapAgainstFoundation() {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        for year in 1600...2400 {
            let date = cal.date(from: DateComponents(year: year, month: 2, day: 1))!
            let days = cal.range(of: .day, in: .month, for: date)!.count
            #expect(CalendarDate.daysInMonth(2, year: year) == days, "\(year)")
        }
    }

    @Test("impossible dates are refused with the field named", arguments: [
        (2023, 2, 29), (1900, 2, 29), (2000, 2, 30), (2023, 4, 31), (2023, 13, 1), (2023, 0, 1), (2023, 1, 0), (2023, 1, 32), (0, 1, 1), (10000, 1, 1),
    ])
    func refused(_ v: (Int, Int, Int)) {
        #expect(invalidFieldName { _ = try CalendarDate(year: v.0, month: v.1, day: v.2) } == "date")
        #expect(invalidFieldName { _ = try CalendarDate(year: v.0, month: v.1, day: v.2, field: "birthDate") } == "birthDate")
    }

    @Test("reasons")
    func reasons() {
        #expect(throws: DomainError.invalidField(field: "date", reason: "day 29 is outside 1–28 for 1900-02")) {
            _ = try CalendarDate(year: 1900, month: 2, day: 29)
        }
        #expect(throws: DomainError.invalidField(field: "date", reason: "month 13 is outside 1–12")) {
            _ = try CalendarDate(year: 2000, month: 13, day: 1)
        }
    }

    @Test("YYYYMMDD and YYYY-MM-DD forms")
    func forms() throws {
        let d = try CalendarDate(year: 1949, month: 12, day: 31)
        #expect(d.yyyymmdd == "19491231")
        #expect(d.description == "1949-12-31")
        #expect(CalendarDate(yyyymmdd: "19491231") == d)
        #expect(CalendarDate(iso: "1949-12-31") == d)
        #expect(CalendarDate(yyyymmdd: "19000229") == nil)
        #expect(CalendarDate(yyyymmdd: "20000229") != nil)
        #expect(CalendarDate(yyyymmdd: "1949123") == nil)
        #expect(CalendarDate(yyyymmdd: "1949123a") == nil)
        #expect(CalendarDate(yyyymmdd: "１9491231") == nil)
        #expect(CalendarDate(iso: "1949-1-31") == nil)
        #expect(CalendarDate(iso: "19491231") == nil)
        #expect(CalendarDate(iso: "1949-02-30") == nil)
        #expect(try CalendarDate(year: 5, month: 1, day: 2).description == "0005-01-02")
        #expect(d.dateComponents == DateComponents(year: 1949, month: 12, day: 31))
    }

    @Test("order and full years")
    func order() throws {
        let a = CalendarDate.fixture(2000, 2, 29)
        #expect(a < .fixture(2000, 3, 1))
        #expect(a > .fixture(2000, 2, 28))
        #expect(a < .fixture(2001, 1, 1))
        #expect(a.fullYears(until: .fixture(2001, 2, 28)) == 0)
        #expect(a.fullYears(until: .fixture(2001, 3, 1)) == 1)
        #expect(a.fullYears(until: .fixture(2004, 2, 29)) == 4)
        #expect(a.fullYears(until: a) == 0)
        #expect(a.fullYears(until: .fixture(2000, 2, 28)) == -1)
    }

    @Test("the day of an instant depends on the time zone")
    func fromDate() {
        // 2025-05-31T20:00:00Z is 2025-06-01 04:00 in Asia/Shanghai.
        let instant = Date(timeIntervalSince1970: 1_748_721_600)
        #expect(CalendarDate(instant, timeZone: TimeZone(identifier: "UTC")!) == .fixture(2025, 5, 31))
        #expect(CalendarDate(instant, timeZone: TimeZone(identifier: "Asia/Shanghai")!) == .fixture(2025, 6, 1))
    }

    @Test("Codable is YYYY-MM-DD")
    func codable() throws {
        let data = try JSONEncoder().encode([CalendarDate.fixture(2000, 2, 29)])
        #expect(String(decoding: data, as: UTF8.self) == #"["2000-02-29"]"#)
        #expect(try JSONDecoder().decode([CalendarDate].self, from: data) == [.fixture(2000, 2, 29)])
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([CalendarDate].self, from: Data(#"["1900-02-29"]"#.utf8)) }
    }
}
