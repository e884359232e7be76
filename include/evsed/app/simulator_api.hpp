#pragma once
// GET/POST /simulator: the simulated car, site and board over HTTP (evsed only,
// registered with the REST API when simulating).

#include "evsed/http/http_types.hpp"
#include "evsed/http/params.hpp"
#include "evsed/sim/world.hpp"

namespace evsed::app {

http::HttpResponse simulator_request(sim::World& w, const http::HttpRequest& req, const http::Params& p);

}  // namespace evsed::app
