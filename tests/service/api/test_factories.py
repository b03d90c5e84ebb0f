"""The shared row factories build linked, valid rows on both databases."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.store.api_keys import authenticate
from service.store.vacancies import preferred_skills, required_skills
from tests.factories import (
    make_api_key,
    make_enterprise,
    make_graduate,
    make_program,
    make_school,
    make_skill,
    make_vacancy,
)


def test_factories_link_their_rows(session: Session) -> None:
    skill = make_skill(session, skill_id="wb", name_zh="引线键合", aliases=["WB", "bonding"])
    assert skill.aliases == "WB;bonding"
    enterprise = make_enterprise(session)
    school = make_school(session)
    program = make_program(
        session, school_id=school.school_id, sponsor_enterprise_id=enterprise.enterprise_id, skills=["wb"]
    )
    graduate = make_graduate(
        session, program_id=program.program_id, skills=["wb"], preferred_districts=["越城区"]
    )
    vacancy = make_vacancy(session, enterprise_id=enterprise.enterprise_id, required_skills=["wb"])
    other = make_vacancy(session, preferred_skills=["wb"])  # makes its own enterprise
    session.commit()
    assert [s.skill_id for s in program.skills] == ["wb"]
    assert [d.district for d in graduate.districts] == ["越城区"] and graduate.status == "seeking"
    assert required_skills(vacancy) == ["wb"] and preferred_skills(other) == ["wb"]
    assert other.enterprise_id != enterprise.enterprise_id
    key_id, plaintext = make_api_key(session, role="hr", enterprise_id=enterprise.enterprise_id)
    session.commit()
    identity = authenticate(session=session, token=plaintext)
    assert (
        identity is not None
        and identity.key_id == key_id
        and identity.enterprise_id == enterprise.enterprise_id
    )
