#include "evsed/hw/gpio_board.hpp"

#include <chrono>

#include "evsed/hw/sysfs.hpp"

namespace evsed::hw {

namespace {

using Clock = std::chrono::steady_clock;

std::variant<std::unique_ptr<DigitalOut>, HwError> output(const std::optional<LineSpec>& spec, bool initial,
                                                          const std::string& dev_root) {
  if (!spec) return std::unique_ptr<DigitalOut>{};
  auto r = GpiodOutput::open(*spec, initial, dev_root);
  if (auto* e = std::get_if<HwError>(&r)) return *e;
  return std::unique_ptr<DigitalOut>{std::move(std::get<std::unique_ptr<GpiodOutput>>(r))};
}

std::variant<std::unique_ptr<DigitalIn>, HwError> input(const std::optional<LineSpec>& spec,
                                                        const std::string& dev_root) {
  if (!spec) return std::unique_ptr<DigitalIn>{};
  auto r = GpiodInput::open(*spec, dev_root);
  if (auto* e = std::get_if<HwError>(&r)) return *e;
  return std::unique_ptr<DigitalIn>{std::move(std::get<std::unique_ptr<GpiodInput>>(r))};
}

}  // namespace

struct GpioBoard::Thermal final : TemperatureSensor {
  std::string path;
  HwValue<int> read_celsius() override {
    auto v = read_integer(path);
    if (auto* e = std::get_if<HwError>(&v)) return *e;
    return static_cast<int>(std::get<long long>(v) / 1000);  // millidegrees
  }
};

// The cable's PP resistor in the divider of the reference board (ADC volts as
// SmartEVSE's: 1.2-1.4 V 16 A, 0.5-0.7 V 32 A, 0.2-0.4 V 63 A, else 13 A).
struct GpioBoard::Proximity final : ProximitySensor {
  IioAdc* adc = nullptr;
  int channel = 0;
  HwValue<std::optional<core::Amps>> read_cable_rating() override {
    auto v = adc->read_volts(channel);
    if (auto* e = std::get_if<HwError>(&v)) return *e;
    const double volts = std::get<double>(v);
    if (volts >= 1.2 && volts <= 1.4) return std::optional{core::Amps{16}};
    if (volts >= 0.5 && volts <= 0.7) return std::optional{core::Amps{32}};
    if (volts >= 0.2 && volts <= 0.4) return std::optional{core::Amps{63}};
    return std::optional{core::Amps{13}};
  }
};

// The lock's position switch, with the polarity of the lock type.
struct GpioBoard::LockSense final : DigitalIn {
  std::unique_ptr<DigitalIn> line;
  bool high_when_locked = false;
  HwValue<bool> read() override {
    auto v = line->read();
    if (auto* e = std::get_if<HwError>(&v)) return *e;
    return std::get<bool>(v) == high_when_locked;
  }
};

// Solenoid or motor lock: a 600 ms pulse on A/B in one direction, then both
// lines high (off), as SmartEVSE drives it. With a feedback line the position
// is watched for good: a lock out of position (never reached, or forced open
// later) is pulsed again every 5 s.
struct GpioBoard::Lock final : DigitalOut {
  std::unique_ptr<DigitalOut> a;
  std::unique_ptr<DigitalOut> b;
  DigitalIn* sense = nullptr;
  bool want_locked = false;
  bool driving = false;
  std::optional<Clock::time_point> pulse_start;
  Clock::time_point next_check{};  // the position is read once per retry period
  static constexpr std::chrono::milliseconds kPulse{600};
  static constexpr std::chrono::seconds kRetry{5};

  HwResult drive(Clock::time_point now) {
    HwResult r = a->set(!want_locked);
    if (auto e = b->set(want_locked); e && !r) r = e;
    pulse_start = now;
    next_check = now + kRetry;
    driving = true;
    return r;
  }
  HwResult set(bool locked) override {
    want_locked = locked;
    return drive(Clock::now());
  }
  void poll(core::TimePoint now) override {
    if (!pulse_start) return;
    if (driving && now - *pulse_start >= kPulse) {
      driving = false;
      (void)a->set(true);
      (void)b->set(true);
    }
    if (!sense || driving || now < next_check) return;
    next_check = now + kRetry;
    // An unreadable line is the controller's business (a board fault); keep trying.
    auto v = sense->read();
    if (const bool* locked = std::get_if<bool>(&v); locked && *locked != want_locked) (void)drive(now);
  }
};

std::variant<std::unique_ptr<GpioBoard>, HwError> GpioBoard::open(const GpioBoardConfig& c) {
  std::unique_ptr<GpioBoard> b(new GpioBoard());
  // Contactors first, and open: whatever fails later, nothing is switched on.
  for (auto [spec, into] : {std::pair{&c.contactor1, &b->contactor1_}, std::pair{&c.contactor2, &b->contactor2_},
                            std::pair{&c.pilot_disconnect, &b->pilot_disconnect_}, std::pair{&c.led, &b->led_}}) {
    auto r = output(*spec, false, c.dev_root);
    if (auto* e = std::get_if<HwError>(&r)) return *e;
    *into = std::move(std::get<std::unique_ptr<DigitalOut>>(r));
  }
  if (c.lock_a && c.lock_b) {
    auto lock = std::make_unique<Lock>();
    for (auto [spec, into] : {std::pair{&c.lock_a, &lock->a}, std::pair{&c.lock_b, &lock->b}}) {
      auto r = output(*spec, true, c.dev_root);
      if (auto* e = std::get_if<HwError>(&r)) return *e;
      *into = std::move(std::get<std::unique_ptr<DigitalOut>>(r));
    }
    if (c.lock_feedback) {
      auto r = input(c.lock_feedback, c.dev_root);
      if (auto* e = std::get_if<HwError>(&r)) return *e;
      b->lock_sense_ = std::make_unique<LockSense>();
      b->lock_sense_->line = std::move(std::get<std::unique_ptr<DigitalIn>>(r));
      b->lock_sense_->high_when_locked = c.lock_feedback_high_when_locked;
      lock->sense = b->lock_sense_.get();
    }
    b->lock_ = std::move(lock);
  }
  for (auto [spec, into] : {std::pair{&c.rcm, &b->rcm_}, std::pair{&c.external_switch, &b->switch_}}) {
    auto r = input(*spec, c.dev_root);
    if (auto* e = std::get_if<HwError>(&r)) return *e;
    *into = std::move(std::get<std::unique_ptr<DigitalIn>>(r));
  }
  auto pwm = SysfsPwm::open(c.pwm);
  if (auto* e = std::get_if<HwError>(&pwm)) return *e;
  b->pwm_ = std::move(std::get<std::unique_ptr<SysfsPwm>>(pwm));
  auto adc = IioAdc::open(c.adc);
  if (auto* e = std::get_if<HwError>(&adc)) return *e;
  b->adc_ = std::move(std::get<std::unique_ptr<IioAdc>>(adc));
  if (c.proximity_channel >= 0) {
    b->proximity_ = std::make_unique<Proximity>();
    b->proximity_->adc = b->adc_.get();
    b->proximity_->channel = c.proximity_channel;
  }
  if (c.thermal_zone >= 0) {
    b->thermal_ = std::make_unique<Thermal>();
    b->thermal_->path = c.sysfs_root + "/class/thermal/thermal_zone" + std::to_string(c.thermal_zone) + "/temp";
    if (!path_exists(b->thermal_->path)) return HwError{"temperature sensor " + b->thermal_->path + " not found", ENOENT};
  }
  return b;
}

GpioBoard::~GpioBoard() = default;

BoardIo GpioBoard::io() {
  BoardIo io;
  io.pwm = pwm_.get();
  io.adc = adc_.get();
  io.contactor1 = contactor1_.get();
  io.contactor2 = contactor2_.get();
  io.pilot_disconnect = pilot_disconnect_.get();
  io.lock = lock_.get();
  io.led = led_.get();
  io.rcm_fault = rcm_.get();
  io.external_switch = switch_.get();
  io.lock_feedback = lock_sense_.get();
  io.temperature = thermal_.get();
  io.proximity = proximity_.get();
  return io;
}

HwResult GpioBoard::release() {
  HwResult first;
  auto keep = [&](HwResult r) {
    if (r && !first) first = std::move(r);
  };
  if (contactor1_) keep(contactor1_->set(false));
  if (contactor2_) keep(contactor2_->set(false));
  if (pwm_) keep(pwm_->release());
  return first;
}

std::vector<HwError> apply_safe_state(const GpioBoardConfig& c) {
  std::vector<HwError> errors;
  for (const auto* spec : {&c.contactor1, &c.contactor2}) {
    if (!*spec) continue;
    auto r = GpiodOutput::open(**spec, false, c.dev_root);  // requested inactive: open
    if (auto* e = std::get_if<HwError>(&r)) errors.push_back(*e);
  }
  if (c.pilot_disconnect) {
    auto r = GpiodOutput::open(*c.pilot_disconnect, false, c.dev_root);  // pilot connected, at +12 V below
    if (auto* e = std::get_if<HwError>(&r)) errors.push_back(*e);
  }
  auto pwm = SysfsPwm::open(c.pwm);  // exported, enabled, 100 %: steady +12 V
  if (auto* e = std::get_if<HwError>(&pwm)) errors.push_back(*e);
  return errors;
}

}  // namespace evsed::hw
