import Testing
@testable import PomonaAdminAPI

@Suite struct RoleTests {
    @Test func rolesAreOrdered() {
        #expect(Role.observer < Role.maintainer)
        #expect(Role.maintainer < Role.admin)
    }
}
