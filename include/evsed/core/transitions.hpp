#pragma once
// The pilot state machine (Controller::step_state_machine and the timers) as
// data: each transition, the condition that takes it, what happens, the
// IEC 61851-1 Annex A sequence (or SmartEVSE behaviour) it implements, and the
// unit test that proves it. A test checks that every named test exists.
//
// Annex A references are as cited by implementations (anchors.md §8b): the
// standard's text itself was not available; they are to be checked against it.

#include <array>
#include <string_view>

#include "evsed/core/charge_state.hpp"

namespace evsed::core {

struct Transition {
  std::string_view id;
  ChargeState from;
  ChargeState to;
  std::string_view condition;
  std::string_view action;
  std::string_view source;
  std::string_view test;  // GoogleTest "Suite.Name"
};

inline constexpr std::array<Transition, 20> kTransitions{{
    {"T01", ChargeState::A, ChargeState::B, "9 V; access on, no error, no charge delay, current available",
     "latch the cable / EVSE ceiling; PWM offer from the next regulation", "IEC 61851-1 A.6 seq. 1 (EV connects)",
     "StateMachine.AToBOnNineVoltsThenPwmOnTheNextControlCycle"},
    {"T02", ChargeState::A, ChargeState::A, "9 V with access off or paused", "nothing offered, the pilot stays at +12 V",
     "SmartEVSE access control", "StateMachine.PlugInWithAccessOffStaysInA"},
    {"T03", ChargeState::A, ChargeState::B1, "9 V, access on, but an error, a charge delay or no current",
     "pilot disconnected 5 s, then +12 V until it can start", "SmartEVSE (B1 'replug')",
     "StateMachine.PlugInWhileAnErrorIsSetGoesToB1AndDisconnectsThePilot"},
    {"T04", ChargeState::B, ChargeState::C, "6 V for more than 500 ms, diode seen, lock confirmed, current available",
     "close the contactor(s)", "IEC 61851-1 A.6 seq. 4 (close within 3 s)",
     "StateMachine.BToCNeedsSixVoltsForMoreThanHalfASecondAndTheDiode"},
    {"T05", ChargeState::B, ChargeState::B, "6 V while the negative half is loaded (no diode)", "diode_fault: no contactor",
     "IEC 61851-1 Table A.4 (diode check before closing)", "StateMachine.NoContactorWithoutTheCarsDiode"},
    {"T06", ChargeState::B, ChargeState::A, "12 V (unplugged)", "PWM off", "IEC 61851-1 A.6 seq. 2 (EV disconnects)",
     "StateMachine.BToAOnTwelveVolts"},
    {"T07", ChargeState::B, ChargeState::ActStart, "9 V for 30 s without a request", "steady -12 V for 3 s (wake-up)",
     "IEC 61851-1 A.5.3 / ISO 15118-3 (X1 step of 3 s)",
     "StateMachine.ThirtySecondsInBWithoutChargingSendsTheActivationPulse"},
    {"T08", ChargeState::ActStart, ChargeState::B, "the 3 s pulse is over", "PWM offer again",
     "IEC 61851-1 A.5.3", "StateMachine.ThirtySecondsInBWithoutChargingSendsTheActivationPulse"},
    {"T09", ChargeState::C, ChargeState::B, "9 V (the car stops requesting)", "open the contactor(s) at once",
     "IEC 61851-1 A.6 seq. 8.1 (open within 100 ms)", "StateMachine.CToBWhenTheCarStopsRequesting"},
    {"T10", ChargeState::C, ChargeState::A, "12 V (unplugged under load)", "open both contactors at once",
     "IEC 61851-1 A.6 seq. 8.2", "StateMachine.CToAOnUnplugOpensBothContactorsAtOnce"},
    {"T11", ChargeState::C, ChargeState::B, "0 V (pilot short to PE) for 500 ms", "open the contactor(s)",
     "IEC 61851-1 A.6 procedure 12 (open within 3 s)", "StateMachine.ShortInCForHalfASecondGoesToB"},
    {"T12", ChargeState::C, ChargeState::C1, "3 V (ventilation) for 500 ms", "PWM off: the car is asked to stop",
     "evsed: no ventilation to switch (state D never granted)", "StateMachine.VentilationRequestStopsTheCharge"},
    {"T13", ChargeState::C, ChargeState::C1, "access off or paused, no power, solar or capacity timer expired",
     "PWM off, contactors stay closed until the car stops", "SmartEVSE setAccess / setStatePowerUnavailable",
     "StateMachine.AccessOffWhileChargingGoesThroughC1ToB1"},
    {"T14", ChargeState::C1, ChargeState::B1, "9 V (the car stopped) or 6 s passed", "open the contactor(s)",
     "IEC 61851-1 A.6 seq. 10.2 (may open under load after 6 s)",
     "StateMachine.C1OpensTheContactorsAfterSixSecondsIfTheCarKeepsDrawing"},
    {"T15", ChargeState::C1, ChargeState::A, "12 V", "open the contactor(s)", "IEC 61851-1 A.6 seq. 8.2",
     "StateMachine.C1ToAOnUnplug"},
    {"T16", ChargeState::B1, ChargeState::B, "9 V once the error cleared and the charge delay passed",
     "PWM offer again", "SmartEVSE", "StateMachine.B1ToBOnceTheErrorClearsAndTheDelayPasses"},
    {"T17", ChargeState::B1, ChargeState::A, "12 V", "nothing", "IEC 61851-1 A.6 seq. 2", "StateMachine.B1ToAOnUnplug"},
    {"T18", ChargeState::C, ChargeState::B1, "pilot invalid or steady -12 V (state F) for 1 s",
     "pilot_fault: contactors open at once", "IEC 61851-1 A.6 procedure 12 / Table A.5 (state F after a fault)",
     "StateMachine.InvalidPilotForOneSecondIsAFaultThatOpensTheContactor"},
    {"T19", ChargeState::C, ChargeState::B1, "RCM input, a board read/write failure, or the lock opening",
     "contactors open at once, nothing offered", "IEC 61851-1 8.5 (RCD) / evsed fail-safe",
     "StateMachine.RcmTripOpensTheContactorAndNeedsAnAcknowledge"},
    {"T20", ChargeState::B, ChargeState::B1, "access off or paused in B", "PWM off (pilot stays connected)",
     "SmartEVSE setAccess", "StateMachine.AccessOffInBGoesToB1AndBackOnResumes"},
}};

}  // namespace evsed::core
