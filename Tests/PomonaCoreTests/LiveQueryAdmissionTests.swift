import Foundation
import Testing

@testable import PomonaCore

/// The caps on open live queries: per user, a shared one for non-admins, and admins never locked
/// out by anyone else.
@Suite struct LiveQueryAdmissionTests {
    let observer = LiveQueryOwner(userID: 1, isAdmin: false)
    let otherObserver = LiveQueryOwner(userID: 2, isAdmin: false)
    let admin = LiveQueryOwner(userID: 3, isAdmin: true)
    let otherAdmin = LiveQueryOwner(userID: 4, isAdmin: true)

    @Test func eachUserHasACapOfTheirOwn() throws {
        var state = LiveQueryAdmission()
        let limits = LiveQueryAdmission.Limits(perUser: 2, shared: 100)
        try state.admit(observer, limits: limits)
        try state.admit(observer, limits: limits)
        #expect(throws: LiveQueryAdmission.Refusal.perUser(limit: 2)) { try state.admit(observer, limits: limits) }
        try state.admit(otherObserver, limits: limits)
        #expect(state.openByUser == [1: 2, 2: 1])
        state.release(observer)
        try state.admit(observer, limits: limits)
    }

    /// The probe's attack: observers fill the cap everyone shared, and admins got 429.
    @Test func nonAdminsFillingTheSharedCapDoNotLockAdminsOut() throws {
        var state = LiveQueryAdmission()
        let limits = LiveQueryAdmission.Limits(perUser: 3, shared: 4)
        for _ in 0..<3 { try state.admit(observer, limits: limits) }
        try state.admit(otherObserver, limits: limits)
        #expect(throws: LiveQueryAdmission.Refusal.shared(limit: 4)) { try state.admit(otherObserver, limits: limits) }
        for _ in 0..<3 { try state.admit(admin, limits: limits) }
        // Another admin filling their own cap does not lock this one out either.
        for _ in 0..<3 { try state.admit(otherAdmin, limits: limits) }
        #expect(throws: LiveQueryAdmission.Refusal.perUser(limit: 3)) { try state.admit(admin, limits: limits) }
        #expect(state.openShared == 4, "admins' campaigns are not counted against the shared cap")
        state.release(admin)
        try state.admit(admin, limits: limits)
    }

    @Test func aReleaseWithoutAnAdmissionChangesNothing() {
        var state = LiveQueryAdmission()
        state.release(observer)
        #expect(state == LiveQueryAdmission())
    }
}
